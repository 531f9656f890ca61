package io.vaultmfa.operator.reconciler;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.testing.WithOperator;
import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.iam.model.AssignmentStatusType;
import software.amazon.awssdk.services.iam.model.MFADevice;
import software.amazon.awssdk.services.iam.model.VirtualMFADevice;

/**
 * A binding whose Vault mount does not exist is refused with a condition that names the mount, and
 * leaves no MFA device behind in IAM (invariant I1: no device whose seed is not in Vault).
 */
class VaultFailureIT extends WithOperator {

  @Test
  void missingMountIsReportedAndNoDeviceIsLeft() {
    AwsMfaBinding b = binding("vault-a", "nomount", "vault-nomount");
    b.getSpec().getVault().setMount("no-such-totp");
    h.apply(b);

    Condition key =
        h.awaitCondition("vault-a", "nomount", "VaultKeyReady", "False", "VaultRejected");
    assertThat(key.getMessage()).as("VaultKeyReady message").contains("no-such-totp");
    assertThat(h.condition("vault-a", "nomount", "Ready"))
        .get()
        .extracting(Condition::getStatus)
        .isEqualTo("False");

    List<String> devices =
        h
            .iam
            .listVirtualMFADevicesPaginator(r -> r.assignmentStatus(AssignmentStatusType.ANY))
            .virtualMFADevices()
            .stream()
            .map(VirtualMFADevice::serialNumber)
            .toList();
    assertThat(devices).as("virtual MFA devices in the account").isEmpty();
    assertThat(h.iam.listMFADevices(r -> r.userName("vault-nomount")).mfaDevices())
        .as("devices enabled on vault-nomount")
        .extracting(MFADevice::serialNumber)
        .isEmpty();
  }

  @Test
  void readyCarriesTheVaultReasonNotReconciling() {
    // What `kubectl get awsmfabindings` shows in its Reason column: the failed step's reason.
    // VaultRejected is terminal (no retry until the next resync), so "Reconciling" would say
    // something is in progress when nothing is.
    AwsMfaBinding b = binding("vault-b", "nomount", "vault-nomount-b");
    b.getSpec().getVault().setMount("no-such-totp");
    h.apply(b);
    h.awaitCondition("vault-b", "nomount", "VaultKeyReady", "False", "VaultRejected");

    assertThat(h.condition("vault-b", "nomount", "Ready"))
        .get()
        .extracting(Condition::getReason)
        .as("Ready reason")
        .isEqualTo("VaultRejected");
  }
}
