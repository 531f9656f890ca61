package io.vaultmfa.operator.reconciler;

import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.AwsMfaBindingStatus;
import io.vaultmfa.operator.iam.Iam;

/** One reconcile of one binding: what the steps share. */
record Run(
    AwsMfaBinding binding, Desired desired, Iam iam, Conditions conditions, EventRecorder events) {

  AwsMfaBindingStatus status() {
    return binding.getStatus();
  }

  String ref() {
    return binding.getMetadata().getNamespace() + "/" + binding.getMetadata().getName();
  }
}
