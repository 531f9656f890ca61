package io.vaultmfa.operator.reconciler;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.testing.VaultHttp;
import io.vaultmfa.operator.testing.WithOperator;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.iam.model.MFADevice;

/**
 * DESIGN.md step 6: what a person changes outside the operator is repaired on the next resync (3 s
 * here), each with a Normal Event {@code DriftRepaired} saying what was repaired. One test per kind
 * of drift; each ends with a Ready binding whose one enabled device's seed is in Vault.
 */
class DriftIT extends WithOperator {

  static final Duration REPAIRED = Duration.ofSeconds(30);

  @BeforeAll
  static void prepare() {
    h.stopOperator();
    h.startOperator(Map.of(Setting.RESYNC_INTERVAL, "3s"));
  }

  @Test
  void deviceDeactivatedOutsideIsEnrolledAgainUnderItsSerial() {
    String serial = ready("drift-a", "off", "drift-off");
    Instant enabled = enableDate("drift-off", serial);

    h.iam.deactivateMFADevice(r -> r.userName("drift-off").serialNumber(serial));

    Event e = awaitDrift("drift-a", "off", "no longer enabled");
    assertThat(e.getMessage()).contains(serial, "drift-off");
    assertRepaired("drift-a", "off", "drift-off", serial);
    assertThat(enableDate("drift-off", serial)).as("enable date").isAfter(enabled);
    assertThat(h.virtualDevicesNamed("/", "drift-off")).containsExactly(serial);
  }

  @Test
  void deviceDeletedOutsideIsEnrolledAgain() {
    String serial = ready("drift-b", "del", "drift-del");

    // Real IAM deletes only a deactivated device; a person does both.
    h.iam.deactivateMFADevice(r -> r.userName("drift-del").serialNumber(serial));
    h.iam.deleteVirtualMFADevice(r -> r.serialNumber(serial));

    Event e = awaitDrift("drift-b", "del", "no longer enabled");
    assertThat(e.getMessage()).contains(serial);
    assertRepaired("drift-b", "del", "drift-del", serial);
  }

  @Test
  void vaultKeyDeletedOutsideReplacesTheDeviceNobodyCanUse() {
    String serial = ready("drift-c", "key", "drift-key");
    Instant enabled = enableDate("drift-key", serial);

    new VaultHttp(h.bao.address(), h.bao.token()).delete("totp/keys/drift-c.key");

    Event e = awaitDrift("drift-c", "key", "was missing");
    assertThat(e.getMessage()).contains("totp/keys/drift-c.key", serial);
    assertRepaired("drift-c", "key", "drift-key", serial);
    assertThat(enableDate("drift-key", serial))
        .as("enable date: a new device, the old one's seed is lost")
        .isAfter(enabled);
  }

  @Test
  void userDeletedOutsideIsCreatedAgainWhenCreateIsTrue() {
    String serial = ready("drift-d", "user", "drift-user");
    String arn = h.get("drift-d", "user").getStatus().getUserArn();

    // As the console does it: MFA devices first, then the user.
    h.iam.deactivateMFADevice(r -> r.userName("drift-user").serialNumber(serial));
    h.iam.deleteVirtualMFADevice(r -> r.serialNumber(serial));
    h.iam.deleteUser(r -> r.userName("drift-user"));

    Event e = awaitDrift("drift-d", "user", "created it again");
    assertThat(e.getMessage()).contains(arn, "deleted outside the operator");
    assertRepaired("drift-d", "user", "drift-user", serial);
    assertThat(h.get("drift-d", "user").getStatus().getUserArn()).isEqualTo(arn);
    assertThat(h.condition("drift-d", "user", "UserReady").orElseThrow().getReason())
        .isEqualTo("UserCreated");
  }

  @Test
  void userDeletedOutsideWithCreateFalseIsUserNotFoundUntilItIsBack() {
    h.iam.createUser(r -> r.userName("drift-adopted"));
    AwsMfaBinding b = binding("drift-e", "adopted", "drift-adopted");
    b.getSpec().getIamUser().setCreate(false);
    h.apply(b);
    String serial = h.awaitReady("drift-e", "adopted").getStatus().getSerialNumber();
    readyAt = OutsideCallCounts.of(h.meters);

    h.iam.deactivateMFADevice(r -> r.userName("drift-adopted").serialNumber(serial));
    h.iam.deleteVirtualMFADevice(r -> r.serialNumber(serial));
    h.iam.deleteUser(r -> r.userName("drift-adopted"));

    Condition c = h.awaitCondition("drift-e", "adopted", "UserReady", "False", "UserNotFound");
    assertThat(c.getMessage()).contains("drift-adopted", "spec.iamUser.create is false");
    assertThat(h.condition("drift-e", "adopted", "Ready").orElseThrow().getStatus())
        .isEqualTo("False");
    assertThat(h.userExists("drift-adopted")).as("user created by the operator").isFalse();

    h.iam.createUser(r -> r.userName("drift-adopted"));
    await().atMost(REPAIRED).until(() -> isReady("drift-e", "adopted"));
    assertRepaired("drift-e", "adopted", "drift-adopted", serial);
  }

  @Test
  void secretEditedOutsideIsRestored() {
    ready("drift-f", "edit", "drift-edit");
    Map<String, String> before = h.secret("drift-f", "edit-mfa").getData();

    h.client
        .secrets()
        .inNamespace("drift-f")
        .withName("edit-mfa")
        .edit(
            s -> {
              s.getData().put("AWS_MFA_SERIAL_NUMBER", "aGFja2Vk");
              s.getData().put("EXTRA", "eA==");
              return s;
            });

    Event e = awaitDrift("drift-f", "edit", "Restored");
    assertThat(e.getMessage()).contains("edit-mfa");
    await().atMost(REPAIRED).until(() -> before.equals(h.secret("drift-f", "edit-mfa").getData()));
    printCalls("drift-f", "edit");
  }

  @Test
  void secretDeletedOutsideIsCreatedAgain() {
    ready("drift-g", "gone", "drift-gone");
    Map<String, String> before = h.secret("drift-g", "gone-mfa").getData();

    h.client.secrets().inNamespace("drift-g").withName("gone-mfa").delete();

    Event e = awaitDrift("drift-g", "gone", "was deleted");
    assertThat(e.getMessage()).contains("gone-mfa");
    await()
        .atMost(REPAIRED)
        .until(
            () ->
                h.secret("drift-g", "gone-mfa") != null
                    && before.equals(h.secret("drift-g", "gone-mfa").getData()));
    printCalls("drift-g", "gone");
  }

  // ---- helpers

  /** Outside calls when the binding under test was last Ready before its drift. */
  static OutsideCallCounts readyAt;

  static String ready(String ns, String name, String user) {
    h.apply(binding(ns, name, user));
    String serial = h.awaitReady(ns, name).getStatus().getSerialNumber();
    readyAt = OutsideCallCounts.of(h.meters);
    return serial;
  }

  /**
   * Prints the outside calls since the binding was Ready: its repair, and resyncs (2 reads each).
   */
  static void printCalls(String ns, String name) {
    System.out.println(
        "outside calls from Ready to repaired ("
            + ns
            + "/"
            + name
            + "): "
            + OutsideCallCounts.of(h.meters).since(readyAt));
  }

  /** The binding's DriftRepaired Event whose message contains {@code what}, once it is there. */
  static Event awaitDrift(String ns, String name, String what) {
    await()
        .atMost(REPAIRED)
        .until(() -> drift(ns, name).stream().anyMatch(e -> e.getMessage().contains(what)));
    Event e = drift(ns, name).stream().filter(x -> x.getMessage().contains(what)).findFirst().get();
    assertThat(e.getType()).isEqualTo("Normal");
    return e;
  }

  static List<Event> drift(String ns, String name) {
    return RotationIT.events(ns, name, "DriftRepaired");
  }

  /** Ready again, one enabled device with the same serial number, and Vault holds its seed. */
  static void assertRepaired(String ns, String name, String user, String serial) {
    await()
        .atMost(REPAIRED)
        .until(
            () ->
                isReady(ns, name)
                    && h.userExists(user)
                    && List.of(serial).equals(ConflictIT.enabledSerials(user)));
    printCalls(ns, name);
    AwsMfaBinding b = h.get(ns, name);
    assertThat(b.getStatus().getSerialNumber()).as("serial number").isEqualTo(serial);
    assertThat(h.iam.listMFADevices(r -> r.userName(user)).mfaDevices())
        .as("devices enabled on %s", user)
        .extracting(MFADevice::serialNumber)
        .containsExactly(serial);
    h.assertVaultCodeIsCodeOf("totp", ns + "." + name, h.iamBoundary.seedOf(serial));
    assertThat(EnrolmentIT.decode(h.secret(ns, name + "-mfa").getData()))
        .containsEntry("AWS_MFA_SERIAL_NUMBER", serial);
  }

  static boolean isReady(String ns, String name) {
    return h.condition(ns, name, "Ready").map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  static Instant enableDate(String user, String serial) {
    return h.iam.listMFADevices(r -> r.userName(user)).mfaDevices().stream()
        .filter(m -> m.serialNumber().equals(serial))
        .findFirst()
        .map(MFADevice::enableDate)
        .orElseThrow();
  }
}
