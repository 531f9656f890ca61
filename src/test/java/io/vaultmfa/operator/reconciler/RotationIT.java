package io.vaultmfa.operator.reconciler;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.RotationSpec;
import io.vaultmfa.operator.iam.Ownership;
import io.vaultmfa.operator.testing.OperatorHarness;
import io.vaultmfa.operator.testing.VaultHttp;
import io.vaultmfa.operator.testing.WithOperator;
import io.vaultmfa.operator.totp.Totp;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.iam.model.MFADevice;
import software.amazon.awssdk.services.iam.model.Tag;
import software.amazon.awssdk.services.iam.model.VirtualMFADevice;

/**
 * Invariant I6: rotation is make-before-break. While the operator rotates, a background poll and a
 * check at every IAM call read the code Vault gives and find it to be the code of a device enabled
 * on the user at that moment ({@link CodeWatch}). A change of {@code spec.rotation.token} rotates
 * exactly once; {@code spec.rotation.interval} rotates on schedule; a device a person enabled on
 * the same user is not touched. A rotation stopped at any step (the state it leaves is arranged
 * here by hand while the operator is stopped, as LeftoverDeviceIT does for enrolment) converges on
 * restart to one enabled device whose seed Vault holds.
 */
class RotationIT extends WithOperator {

  static CodeWatch watch;

  @BeforeAll
  static void prepare() {
    watch = new CodeWatch(h);
    h.stopOperator();
    h.startOperator(Map.of(), List.of(watch));
  }

  @AfterEach
  void stopWatching() throws InterruptedException {
    watch.stop();
    // The crash cases stop the operator; whatever happened, the next test finds it running.
    h.stopOperator();
    h.startOperator(Map.of(), List.of(watch));
  }

  @Test
  void tokenChangeRotatesOnceMakeBeforeBreakAndLeavesAPersonsDeviceAlone() throws Exception {
    AwsMfaBinding b = binding("rot-a", "tok", "rot-tok");
    b.getSpec().setRotation(rotation("2026-01", null));
    h.apply(b);
    AwsMfaBinding ready = h.awaitReady("rot-a", "tok");
    String old = ready.getStatus().getSerialNumber();
    assertThat(ready.getStatus().getRotationToken()).isEqualTo("2026-01");
    assertThat(ready.getStatus().getRotatedAt()).as("rotatedAt before any rotation").isNull();
    String phone = enablePersonsDevice("rot-tok", "rot-tok-phone");
    Map<String, Instant> phoneBefore = enabledWithDates("rot-tok");
    phoneBefore.keySet().retainAll(List.of(phone));
    watch.start("rot-tok", "totp", "rot-a.tok");
    h.iamBoundary.clearCalls();
    OutsideCallCounts before = OutsideCallCounts.of(h.meters);

    edit("rot-a", "tok", x -> x.getSpec().getRotation().setToken("2026-02"));
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                !old.equals(h.get("rot-a", "tok").getStatus().getSerialNumber())
                    && h.condition("rot-a", "tok", "Ready")
                        .orElseThrow()
                        .getStatus()
                        .equals("True"));
    watch.stop();
    System.out.println(
        "outside calls of one rotation: " + OutsideCallCounts.of(h.meters).since(before));

    AwsMfaBinding after = h.get("rot-a", "tok");
    String rotated = after.getStatus().getSerialNumber();
    assertThat(watch.violations()).as("moments Vault gave a code of no enabled device").isEmpty();
    assertThat(watch.seen())
        .as("devices whose codes Vault gave during the rotation (%d checks)", watch.checks())
        .contains(old, rotated);
    assertThat(rotated).as("new serial").endsWith(":mfa/rot-tok-r1");
    assertThat(enabledWithDates("rot-tok"))
        .as("devices enabled on rot-tok: the new one, and the person's as it was")
        .containsKey(rotated)
        .containsAllEntriesOf(phoneBefore)
        .hasSize(2);
    assertThat(h.virtualDevicesNamed("/", "rot-tok")).as("the old device").isEmpty();
    h.assertVaultCodeIsCodeOf("totp", "rot-a.tok", h.iamBoundary.seedOf(rotated));
    assertThat(h.vaultRead("totp/keys/rot-a.tok.rotating")).as("staging key").isEmpty();
    assertThat(after.getStatus().getRotatedAt()).as("status.rotatedAt").isNotNull();
    assertThat(after.getStatus().getRotationToken()).isEqualTo("2026-02");
    assertThat(EnrolmentIT.decode(h.secret("rot-a", "tok-mfa").getData()))
        .containsEntry("AWS_MFA_SERIAL_NUMBER", rotated);
    assertThat(events("rot-a", "tok", "Rotated"))
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.getMessage())
                    .contains("spec.rotation.token", rotated, old)
                    .doesNotContain(h.iamBoundary.seedOf(rotated)));
    assertThat(h.iamBoundary.count("CreateVirtualMfaDevice")).as("devices created").isEqualTo(1);
    assertThat(h.iamBoundary.count("DeactivateMfaDevice")).as("devices deactivated").isEqualTo(1);

    // Exactly once: neither a restart nor another spec change with the same token rotates again.
    h.iamBoundary.clearCalls();
    h.stopOperator();
    h.startOperator(Map.of(), List.of(watch));
    long generation =
        edit("rot-a", "tok", x -> x.getSpec().getRotation().setInterval("2160h"))
            .getMetadata()
            .getGeneration();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> generation == h.get("rot-a", "tok").getStatus().getObservedGeneration());
    assertThat(h.get("rot-a", "tok").getStatus().getSerialNumber()).isEqualTo(rotated);
    assertThat(h.iamBoundary.count("CreateVirtualMfaDevice")).as("devices created").isZero();
  }

  @Test
  void intervalRotatesOnSchedule() throws Exception {
    AwsMfaBinding b = binding("rot-b", "every", "rot-every");
    b.getSpec().setRotation(rotation(null, "30s"));
    h.apply(b);
    AwsMfaBinding ready = h.awaitReady("rot-b", "every");
    String old = ready.getStatus().getSerialNumber();
    watch.start("rot-every", "totp", "rot-b.every");

    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> !old.equals(h.get("rot-b", "every").getStatus().getSerialNumber()));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> "True".equals(h.condition("rot-b", "every", "Ready").orElseThrow().getStatus()));
    watch.stop();

    AwsMfaBinding after = h.get("rot-b", "every");
    String rotated = after.getStatus().getSerialNumber();
    assertThat(watch.violations()).as("moments Vault gave a code of no enabled device").isEmpty();
    assertThat(watch.seen()).contains(old, rotated);
    assertThat(ConflictIT.enabledSerials("rot-every")).containsExactly(rotated);
    assertThat(Instant.parse(after.getStatus().getRotatedAt()))
        .as("rotatedAt, at least the interval after the first enrolment")
        .isAfterOrEqualTo(Instant.parse(ready.getStatus().getEnabledAt()).plusSeconds(30));
    assertThat(events("rot-b", "every", "Rotated"))
        .first()
        .satisfies(e -> assertThat(e.getMessage()).contains("spec.rotation.interval 30s"));
    h.assertVaultCodeIsCodeOf("totp", "rot-b.every", h.iamBoundary.seedOf(rotated));
    // It would rotate again every 30 s and disturb the call counts of the other tests.
    h.delete("rot-b", "every");
    h.awaitGone("rot-b", "every");
  }

  /** Stopped after enabling the new device, before the Vault key was swapped: the new one goes. */
  @Test
  void rotationStoppedBeforeTheSwapIsUndoneAndDoneAgain() throws Exception {
    Arranged a = arrange("rot-c", "before", "rot-before", false);
    h.iamBoundary.clearCalls();
    watch.start(a.user, "totp", a.key);
    h.startOperator(Map.of(), List.of(watch));

    String serial = awaitOneDevice(a, "rot-before-r1");
    watch.stop();

    assertThat(h.iamBoundary.count("CreateVirtualMfaDevice")).as("devices created").isEqualTo(1);
    assertThat(h.virtualDevicesNamed("/", "rot-before")).as("the old device").isEmpty();
    h.assertVaultCodeIsCodeOf("totp", a.key, h.iamBoundary.seedOf(serial));
    assertThat(h.vaultRead("totp/keys/" + a.key + ".rotating")).as("staging key").isEmpty();
    assertThat(watch.violations()).isEmpty();
    assertThat(events("rot-c", "before", "EnrolmentRolledBack"))
        .anySatisfy(e -> assertThat(e.getMessage()).contains(a.newSerial));
    assertThat(h.get("rot-c", "before").getStatus().getRotationToken()).isEqualTo("t2");
  }

  /** Stopped after the Vault key was swapped, before the old device was removed: the old goes. */
  @Test
  void rotationStoppedAfterTheSwapIsFinished() throws Exception {
    Arranged a = arrange("rot-d", "after", "rot-after", true);
    h.iamBoundary.clearCalls();
    watch.start(a.user, "totp", a.key);
    h.startOperator(Map.of(), List.of(watch));

    String serial = awaitOneDevice(a, "rot-after-r1");
    watch.stop();

    assertThat(serial).as("serial of the device kept").isEqualTo(a.newSerial);
    assertThat(h.iamBoundary.count("CreateVirtualMfaDevice")).as("devices created").isZero();
    assertThat(h.virtualDevicesNamed("/", "rot-after")).as("the old device").isEmpty();
    h.assertVaultCodeIsCodeOf("totp", a.key, a.newSeed);
    assertThat(h.vaultRead("totp/keys/" + a.key + ".rotating")).as("staging key").isEmpty();
    assertThat(watch.violations()).isEmpty();
    AwsMfaBinding b = h.get("rot-d", "after");
    assertThat(b.getStatus().getRotationToken())
        .as("the token the new device was tagged with")
        .isEqualTo("t2");
    assertThat(b.getStatus().getRotatedAt()).isNotNull();
    assertThat(events("rot-d", "after", "Rotated"))
        .anySatisfy(e -> assertThat(e.getMessage()).contains("interrupted", a.oldSerial));
  }

  /** Stopped after deactivating the old device: it is deleted, and so is the staging key. */
  @Test
  void rotationStoppedAfterDeactivatingTheOldDeviceIsTidied() throws Exception {
    Arranged a = arrange("rot-e", "tidy", "rot-tidy", true);
    h.iam.deactivateMFADevice(r -> r.userName(a.user).serialNumber(a.oldSerial));
    h.iamBoundary.clearCalls();
    h.startOperator(Map.of(), List.of(watch));

    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> h.vaultRead("totp/keys/" + a.key + ".rotating").isEmpty());
    String serial = awaitOneDevice(a, "rot-tidy-r1");

    assertThat(serial).isEqualTo(a.newSerial);
    assertThat(h.iamBoundary.count("CreateVirtualMfaDevice")).as("devices created").isZero();
    assertThat(h.virtualDevicesNamed("/", "rot-tidy")).as("the old device").isEmpty();
    h.assertVaultCodeIsCodeOf("totp", a.key, a.newSeed);
  }

  /**
   * Two enabled devices and no staging key to tell which seed Vault holds (someone deleted it): a
   * third device is enrolled and the key swapped to it, so the device kept is one whose seed is
   * surely in Vault.
   */
  @Test
  void twoEnabledDevicesWithoutStagingKeyAreReplacedByAThird() throws Exception {
    Arranged a = arrange("rot-f", "lost", "rot-lost", true);
    new VaultHttp(h.bao.address(), h.bao.token()).delete("totp/keys/" + a.key + ".rotating");
    h.iamBoundary.clearCalls();
    watch.start(a.user, "totp", a.key);
    h.startOperator(Map.of(), List.of(watch));

    String serial = awaitOneDevice(a, "rot-lost-r2");
    watch.stop();

    assertThat(h.virtualDevicesNamed("/", "rot-lost")).isEmpty();
    assertThat(h.virtualDevicesNamed("/", "rot-lost-r1")).isEmpty();
    h.assertVaultCodeIsCodeOf("totp", a.key, h.iamBoundary.seedOf(serial));
    assertThat(watch.violations()).isEmpty();
  }

  /**
   * A binding deleted after a rotation stopped before enabling its new device: the unassigned new
   * device (found by its rotation name and tags) and the staging key go with the rest.
   */
  @Test
  void deletionRemovesWhatAStoppedRotationLeft() {
    AwsMfaBinding b = binding("rot-g", "gone", "rot-gone");
    b.getSpec().setRotation(rotation("t1", null));
    h.apply(b);
    AwsMfaBinding ready = h.awaitReady("rot-g", "gone");
    String uid = ready.getMetadata().getUid();
    h.stopOperator();
    Map<String, String> tags =
        new LinkedHashMap<>(new Ownership(OperatorHarness.CLUSTER_ID, uid, "rot-g/gone").tags());
    tags.put(DeviceStep.TOKEN_TAG, DeviceStep.tokenHash("t2"));
    VirtualMFADevice created =
        h.iam
            .createVirtualMFADevice(
                r ->
                    r.virtualMFADeviceName("rot-gone-r1")
                        .path("/")
                        .tags(
                            tags.entrySet().stream()
                                .map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build())
                                .toList()))
            .virtualMFADevice();
    String seed = created.base32StringSeed().asUtf8String();
    h.rememberSeed(seed);
    new VaultHttp(h.bao.address(), h.bao.token())
        .write("totp/keys/rot-g.gone.rotating", keyBody(seed, created.serialNumber()));
    h.startOperator(Map.of(), List.of(watch));

    h.delete("rot-g", "gone");
    h.awaitGone("rot-g", "gone");

    assertThat(h.virtualDevicesNamed("/", "rot-gone")).isEmpty();
    assertThat(h.virtualDevicesNamed("/", "rot-gone-r1")).isEmpty();
    assertThat(h.vaultRead("totp/keys/rot-g.gone.rotating")).as("staging key").isEmpty();
    assertThat(h.vaultRead("totp/keys/rot-g.gone")).as("Vault key").isEmpty();
    assertThat(h.userExists("rot-gone")).isFalse();
  }

  // ---- helpers

  /** What an interrupted rotation leaves, and what the test knows of it. */
  record Arranged(
      String user, String key, String oldSerial, String newSerial, String newSeed, String uid) {}

  /**
   * A Ready binding with token t1, then, with the operator stopped, what a rotation to token t2
   * leaves when stopped after enabling its new device: the new device (tagged as the operator tags
   * it) enabled next to the old one, its seed under the staging key, and, when {@code swapped},
   * also under the binding's key. The spec asks for t2.
   */
  static Arranged arrange(String ns, String name, String user, boolean swapped) {
    AwsMfaBinding b = binding(ns, name, user);
    b.getSpec().setRotation(rotation("t1", null));
    h.apply(b);
    AwsMfaBinding ready = h.awaitReady(ns, name);
    String oldSerial = ready.getStatus().getSerialNumber();
    String account = ready.getStatus().getAccountId();
    String uid = ready.getMetadata().getUid();
    String key = ns + "." + name;
    h.stopOperator();

    Map<String, String> tags =
        new LinkedHashMap<>(new Ownership(OperatorHarness.CLUSTER_ID, uid, ns + "/" + name).tags());
    tags.put(DeviceStep.TOKEN_TAG, DeviceStep.tokenHash("t2"));
    VirtualMFADevice created =
        h.iam
            .createVirtualMFADevice(
                r ->
                    r.virtualMFADeviceName(user + "-r1")
                        .path("/")
                        .tags(
                            tags.entrySet().stream()
                                .map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build())
                                .toList()))
            .virtualMFADevice();
    String seed = created.base32StringSeed().asUtf8String();
    h.rememberSeed(seed);
    watch.knowSeed(created.serialNumber(), seed);
    VaultHttp vault = new VaultHttp(h.bao.address(), h.bao.token());
    vault.write("totp/keys/" + key + ".rotating", keyBody(seed, created.serialNumber()));
    long now = Instant.now().getEpochSecond();
    h.iam.enableMFADevice(
        r ->
            r.userName(user)
                .serialNumber(created.serialNumber())
                .authenticationCode1(Totp.code(seed, now - 30))
                .authenticationCode2(Totp.code(seed, now)));
    if (swapped) {
      vault.write("totp/keys/" + key, keyBody(seed, user + "@" + account));
    }
    edit(ns, name, x -> x.getSpec().getRotation().setToken("t2"));
    return new Arranged(user, key, oldSerial, created.serialNumber(), seed, uid);
  }

  static Map<String, Object> keyBody(String seed, String accountName) {
    return Map.of(
        "key",
        seed,
        "issuer",
        "Amazon Web Services",
        "account_name",
        accountName,
        "algorithm",
        "SHA1",
        "digits",
        6,
        "period",
        30);
  }

  /**
   * Waits until the user has exactly one enabled device, named as expected, and the binding is
   * Ready for it.
   */
  static String awaitOneDevice(Arranged a, String name) {
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () -> {
              List<String> enabled = ConflictIT.enabledSerials(a.user);
              return enabled.size() == 1
                  && enabled.get(0).endsWith(":mfa/" + name)
                  && h
                      .client
                      .resources(AwsMfaBinding.class)
                      .inAnyNamespace()
                      .list()
                      .getItems()
                      .stream()
                      .filter(x -> x.getMetadata().getUid().equals(a.uid))
                      .anyMatch(
                          x ->
                              enabled.get(0).equals(x.getStatus().getSerialNumber())
                                  && x.getStatus().getConditions().stream()
                                      .anyMatch(
                                          c ->
                                              c.getType().equals("Ready")
                                                  && c.getStatus().equals("True")));
            });
    return ConflictIT.enabledSerials(a.user).get(0);
  }

  static RotationSpec rotation(String token, String interval) {
    RotationSpec r = new RotationSpec();
    r.setToken(token);
    r.setInterval(interval);
    return r;
  }

  static AwsMfaBinding edit(String ns, String name, Consumer<AwsMfaBinding> change) {
    return h.client
        .resources(AwsMfaBinding.class)
        .inNamespace(ns)
        .withName(name)
        .edit(
            x -> {
              change.accept(x);
              return x;
            });
  }

  /** Enables a virtual device a person made on the user; returns its serial number. */
  static String enablePersonsDevice(String user, String name) {
    String[] serialAndSeed = enablePersonsDeviceOn(h, user, name);
    watch.knowSeed(serialAndSeed[0], serialAndSeed[1]);
    return serialAndSeed[0];
  }

  /**
   * A virtual device a person made and enabled on the user, outside the operator; its seed is
   * remembered for the hygiene check. Returns the serial number and the seed (never print it).
   */
  static String[] enablePersonsDeviceOn(OperatorHarness h, String user, String name) {
    return enablePersonsDeviceOn(h, user, name, Map.of());
  }

  /** As above, with tags on the device. */
  static String[] enablePersonsDeviceOn(
      OperatorHarness h, String user, String name, Map<String, String> tags) {
    var phone =
        h.iam
            .createVirtualMFADevice(
                r ->
                    r.virtualMFADeviceName(name)
                        .path("/")
                        .tags(
                            tags.entrySet().stream()
                                .map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build())
                                .toList()))
            .virtualMFADevice();
    String seed = phone.base32StringSeed().asUtf8String();
    h.rememberSeed(seed);
    long now = Instant.now().getEpochSecond();
    h.iam.enableMFADevice(
        r ->
            r.userName(user)
                .serialNumber(phone.serialNumber())
                .authenticationCode1(Totp.code(seed, now - 30))
                .authenticationCode2(Totp.code(seed, now)));
    return new String[] {phone.serialNumber(), seed};
  }

  static Map<String, Instant> enabledWithDates(String user) {
    return h.iam.listMFADevices(r -> r.userName(user)).mfaDevices().stream()
        .collect(Collectors.toMap(MFADevice::serialNumber, MFADevice::enableDate));
  }

  static List<Event> events(String ns, String name, String reason) {
    return h.events(ns).stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }
}
