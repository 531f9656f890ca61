package io.vaultmfa.operator.reconciler;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.vaultmfa.operator.testing.WithOperator;
import io.vaultmfa.operator.totp.Totp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.iam.model.MFADevice;

/**
 * Invariant I4: the operator changes only what it owns. A second binding naming the same user and
 * device name gets reason Conflict and changes nothing; a device a person enabled by hand on the
 * user is never touched, not even when the binding is deleted.
 *
 * <p>Ownership is read from MFA device tags; moto 5.2.5 drops them, so these tests rely on the
 * harness' moto launcher ({@code scripts/moto_server.py}) that keeps them.
 */
class ConflictIT extends WithOperator {

  @Test
  void secondBindingForTheSameUserAndDeviceIsAConflictAndChangesNothing() {
    h.apply(binding("conf-a", "first", "conf-shared"));
    String serial = h.awaitReady("conf-a", "first").getStatus().getSerialNumber();
    String seed = h.iamBoundary.seedOf(serial);
    assertThat(seed).as("seed captured at the IAM boundary").isNotNull();

    h.apply(binding("conf-b", "second", "conf-shared"));
    Condition ready = h.awaitCondition("conf-b", "second", "Ready", "False", "Conflict");

    assertThat(ready.getMessage())
        .as("Ready message of the second binding")
        .contains("conf-shared");
    assertThat(enabledSerials("conf-shared"))
        .as("devices enabled on conf-shared")
        .containsExactly(serial);
    assertThat(h.vaultRead("totp/keys/conf-b.second"))
        .as("Vault key of the second binding")
        .isEmpty();
    h.assertVaultCodeIsCodeOf("totp", "conf-a.first", seed);
    assertThat(h.condition("conf-a", "first", "Ready"))
        .get()
        .extracting(Condition::getStatus)
        .as("Ready of the first binding")
        .isEqualTo("True");
  }

  @Test
  void deletingTheLosingBindingLeavesTheFirstOneWorking() {
    h.apply(binding("conf-c", "first", "conf-shared2"));
    String serial = h.awaitReady("conf-c", "first").getStatus().getSerialNumber();
    String seed = h.iamBoundary.seedOf(serial);
    h.apply(binding("conf-d", "second", "conf-shared2"));
    h.awaitCondition("conf-d", "second", "Ready", "False", "Conflict");

    h.delete("conf-d", "second");
    h.awaitGone("conf-d", "second");

    assertThat(enabledSerials("conf-shared2"))
        .as("devices enabled on conf-shared2")
        .containsExactly(serial);
    h.assertVaultCodeIsCodeOf("totp", "conf-c.first", seed);
  }

  @Test
  void devicePersonEnabledByHandIsNeverTouched() {
    h.iam.createUser(r -> r.userName("conf-hand"));
    var phone =
        h.iam
            .createVirtualMFADevice(r -> r.virtualMFADeviceName("conf-hand-phone").path("/"))
            .virtualMFADevice();
    String phoneSeed = phone.base32StringSeed().asUtf8String();
    h.rememberSeed(phoneSeed);
    long now = Instant.now().getEpochSecond();
    h.iam.enableMFADevice(
        r ->
            r.userName("conf-hand")
                .serialNumber(phone.serialNumber())
                .authenticationCode1(Totp.code(phoneSeed, now - 30))
                .authenticationCode2(Totp.code(phoneSeed, now)));
    Map<String, Instant> before = enabledDevices("conf-hand");

    h.apply(binding("conf-e", "hand", "conf-hand"));
    String ours = h.awaitReady("conf-e", "hand").getStatus().getSerialNumber();
    assertThat(enabledSerials("conf-hand"))
        .as("devices enabled on conf-hand while Ready")
        .containsExactlyInAnyOrder(phone.serialNumber(), ours);

    h.delete("conf-e", "hand");
    h.awaitGone("conf-e", "hand");

    assertThat(enabledDevices("conf-hand"))
        .as("devices enabled on conf-hand (serial and enable date) after the binding is gone")
        .isEqualTo(before);
  }

  // ---- helpers

  static List<String> enabledSerials(String user) {
    return h.iam.listMFADevices(r -> r.userName(user)).mfaDevices().stream()
        .map(MFADevice::serialNumber)
        .toList();
  }

  static Map<String, Instant> enabledDevices(String user) {
    return h.iam.listMFADevices(r -> r.userName(user)).mfaDevices().stream()
        .collect(Collectors.toMap(MFADevice::serialNumber, MFADevice::enableDate));
  }
}
