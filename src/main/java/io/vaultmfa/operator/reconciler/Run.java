package io.vaultmfa.operator.reconciler;

import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.AwsMfaBindingStatus;
import io.vaultmfa.operator.iam.Iam;
import io.vaultmfa.operator.metrics.BindingMetrics;

/**
 * One reconcile of one binding: what the steps share. {@code serialAtStart} is the serial number
 * status recorded before this reconcile, to tell a change made now from a change made outside.
 */
record Run(
    AwsMfaBinding binding,
    Desired desired,
    Iam iam,
    Conditions conditions,
    EventRecorder events,
    BindingMetrics metrics,
    String serialAtStart) {

  AwsMfaBindingStatus status() {
    return binding.getStatus();
  }

  String ref() {
    return binding.getMetadata().getNamespace() + "/" + binding.getMetadata().getName();
  }
}
