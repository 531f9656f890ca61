package io.vaultmfa.operator.reconciler;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.testing.WithOperator;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;

/**
 * A real API server refuses a change of the enrolled names through the CRD's CEL rules; on one that
 * does not run them, the operator refuses too, before creating anything under the new name.
 */
class ImmutableNamesIT extends WithOperator {

  @Test
  void renamingTheUserAfterEnrolmentIsRefusedAndCreatesNothing() {
    h.apply(binding("immutable", "rename", "first-user"));
    h.awaitReady("immutable", "rename");

    h.client
        .resources(AwsMfaBinding.class)
        .inNamespace("immutable")
        .withName("rename")
        .edit(
            b -> {
              b.getSpec().getIamUser().setName("second-user");
              return b;
            });

    Condition ready = h.awaitCondition("immutable", "rename", "Ready", "False", "InvalidSpec");
    assertThat(ready.getMessage()).contains("spec.iamUser.name").contains("immutable");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> h.iam.getUser(r -> r.userName("second-user")))
        .isInstanceOf(NoSuchEntityException.class);
    assertThat(h.iam.listMFADevices(r -> r.userName("first-user")).mfaDevices()).hasSize(1);
  }
}
