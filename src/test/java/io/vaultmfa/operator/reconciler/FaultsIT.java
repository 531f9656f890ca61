package io.vaultmfa.operator.reconciler;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.AwsMfaBindingStatus;
import io.vaultmfa.operator.api.MfaDeviceSpec;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.testing.VaultHttp;
import io.vaultmfa.operator.testing.WithOperator;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.iam.model.MFADevice;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;
import software.amazon.awssdk.services.iam.model.Tag;

/**
 * Faults found by trying to break the operator, each kept as the test that showed it. Every test
 * names the invariant it guards.
 */
class FaultsIT extends WithOperator {

  @BeforeAll
  static void prepare() {
    h.stopOperator();
    h.startOperator(Map.of(Setting.RESYNC_INTERVAL, "3s"));
  }

  /**
   * I1: a Ready binding whose key a person overwrote with another account's seed does not stay
   * Ready, keeps no device nobody can produce codes for, and leaves the person's key alone. (The
   * takeover is one write, so the binding's own resync cannot win the key back in between.)
   */
  @Test
  void bindingWhoseKeyWasTakenOverIsNotReadyAndKeepsNoUselessDevice() {
    AwsMfaBinding a = binding("flt-take", "a", "flt-take-a");
    a.getSpec().getVault().setKeyName("take-shared");
    h.apply(a);
    h.awaitReady("flt-take", "a");
    new VaultHttp(h.bao.address(), h.bao.token())
        .write(
            "totp/keys/take-shared",
            Map.of(
                "generate", false,
                "key", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
                "issuer", "Someone",
                "account_name", "person@example.com"));

    Condition key = h.awaitCondition("flt-take", "a", "VaultKeyReady", "False", "Conflict");

    assertThat(key.getMessage()).contains("take-shared").contains("person@example.com");
    assertThat(enabledSerials("flt-take-a")).as("devices nobody can produce codes for").isEmpty();
    assertThat(h.vaultRead("totp/keys/take-shared").orElseThrow().path("account_name").asText())
        .as("the person's key, left as it was")
        .isEqualTo("person@example.com");
  }

  /** I4: a device a person re-created under the enrolled serial is not taken for ours. */
  @Test
  void personsDeviceWithTheEnrolledSerialIsLeftAlone() {
    h.apply(binding("flt-own", "o", "flt-own-user"));
    String serial = h.awaitReady("flt-own", "o").getStatus().getSerialNumber();
    h.iam.deactivateMFADevice(r -> r.userName("flt-own-user").serialNumber(serial));
    h.iam.deleteVirtualMFADevice(r -> r.serialNumber(serial));
    var mine =
        h.iam
            .createVirtualMFADevice(
                r ->
                    r.virtualMFADeviceName("flt-own-user")
                        .path("/")
                        .tags(Tag.builder().key("owner").value("alice").build()))
            .virtualMFADevice();
    h.rememberSeed(mine.base32StringSeed().asUtf8String());
    assertThat(mine.serialNumber()).isEqualTo(serial);
    h.iam.enableMFADevice(
        r ->
            r.userName("flt-own-user")
                .serialNumber(serial)
                .authenticationCode1("123456")
                .authenticationCode2("654321"));

    h.awaitCondition("flt-own", "o", "DeviceEnrolled", "False", "Conflict");
    h.delete("flt-own", "o");
    h.awaitGone("flt-own", "o");

    assertThat(h.virtualDevicesNamed("/", "flt-own-user")).containsExactly(serial);
    assertThat(enabledSerials("flt-own-user")).containsExactly(serial);
  }

  /** I4: deleting the binding that created a user keeps the user while others use it. */
  @Test
  void userCreatedByOneBindingIsKeptWhileAnotherBindingsDeviceIsOnIt() {
    h.apply(binding("flt-share", "a", "flt-share-user"));
    h.awaitReady("flt-share", "a");
    AwsMfaBinding b = binding("flt-share", "b", "flt-share-user");
    MfaDeviceSpec d = new MfaDeviceSpec();
    d.setName("flt-share-user-b");
    b.getSpec().setMfaDevice(d);
    h.apply(b);
    String bSerial = h.awaitReady("flt-share", "b").getStatus().getSerialNumber();

    h.delete("flt-share", "a");
    h.awaitGone("flt-share", "a");

    assertThat(h.userExists("flt-share-user")).isTrue();
    assertThat(enabledSerials("flt-share-user")).containsExactly(bSerial);
    assertThat(h.condition("flt-share", "b", "Ready").orElseThrow().getStatus()).isEqualTo("True");
  }

  /** The advice of a key Conflict works on servers without CEL: another key name enrols. */
  @Test
  void keyConflictIsResolvedByAnotherKeyName() {
    AwsMfaBinding a = binding("flt-kc", "a", "flt-kc-a");
    a.getSpec().getVault().setKeyName("kc-shared");
    h.apply(a);
    h.awaitReady("flt-kc", "a");
    AwsMfaBinding b = binding("flt-kc", "b", "flt-kc-b");
    b.getSpec().getVault().setKeyName("kc-shared");
    h.apply(b);
    h.awaitCondition("flt-kc", "b", "VaultKeyReady", "False", "Conflict");

    h.client
        .resources(AwsMfaBinding.class)
        .inNamespace("flt-kc")
        .withName("b")
        .edit(
            x -> {
              x.getSpec().getVault().setKeyName("kc-other");
              return x;
            });

    h.awaitReady("flt-kc", "b");
  }

  /** Deletion finishes after status was lost, policies and all. */
  @Test
  void deletionAfterStatusLossDetachesPoliciesAndDeletesTheUser() {
    String arn =
        h.iam
            .createPolicy(
                r ->
                    r.policyName("flt-wipe-pol")
                        .policyDocument(
                            "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                                + "\"Action\":\"s3:ListBucket\",\"Resource\":\"*\"}]}"))
            .policy()
            .arn();
    AwsMfaBinding b = binding("flt-wipe", "w", "flt-wipe-user");
    b.getSpec().getIamUser().setManagedPolicyArns(List.of(arn));
    h.apply(b);
    AwsMfaBinding ready = h.awaitReady("flt-wipe", "w");
    String serial = ready.getStatus().getSerialNumber();
    ready.setStatus(new AwsMfaBindingStatus());
    h.client.resources(AwsMfaBinding.class).inNamespace("flt-wipe").resource(ready).updateStatus();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> serial.equals(h.get("flt-wipe", "w").getStatus().getSerialNumber()));

    h.delete("flt-wipe", "w");
    h.awaitGone("flt-wipe", "w");

    assertThat(h.userExists("flt-wipe-user")).isFalse();
    assertThat(h.virtualDevicesNamed("/", "flt-wipe-user")).isEmpty();
  }

  /** A Secret whose managed-by label was changed by another tool is still ours and repaired. */
  @Test
  void secretWithEditedManagedByLabelIsRestored() {
    h.apply(binding("flt-lbl", "s", "flt-lbl-user"));
    h.awaitReady("flt-lbl", "s");

    h.client
        .secrets()
        .inNamespace("flt-lbl")
        .withName("s-mfa")
        .edit(
            s -> {
              s.getMetadata().getLabels().put("app.kubernetes.io/managed-by", "Helm");
              return s;
            });

    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                "vault-mfa-operator"
                    .equals(
                        h.secret("flt-lbl", "s-mfa")
                            .getMetadata()
                            .getLabels()
                            .get("app.kubernetes.io/managed-by")));
    assertThat(h.condition("flt-lbl", "s", "Ready").orElseThrow().getStatus()).isEqualTo("True");
  }

  /** A spec edited into an invalid one after enrolment is still cleaned up on deletion. */
  @Test
  void bindingMadeInvalidAfterEnrolmentIsCleanedUp() {
    h.apply(binding("flt-inv", "i", "flt-inv-user"));
    String serial = h.awaitReady("flt-inv", "i").getStatus().getSerialNumber();
    h.client
        .resources(AwsMfaBinding.class)
        .inNamespace("flt-inv")
        .withName("i")
        .edit(
            x -> {
              x.getSpec().getIamUser().setManagedPolicyArns(List.of("oops"));
              return x;
            });
    h.awaitCondition("flt-inv", "i", "Ready", "False", "InvalidSpec");

    h.delete("flt-inv", "i");
    h.awaitGone("flt-inv", "i");

    assertThat(h.virtualDevicesNamed("/", "flt-inv-user")).doesNotContain(serial);
    assertThat(h.vaultRead("totp/keys/flt-inv.i")).isEmpty();
    assertThat(h.userExists("flt-inv-user")).isFalse();
  }

  private static List<String> enabledSerials(String user) {
    try {
      return h.iam.listMFADevices(r -> r.userName(user)).mfaDevices().stream()
          .map(MFADevice::serialNumber)
          .toList();
    } catch (NoSuchEntityException e) {
      return List.of();
    }
  }
}
