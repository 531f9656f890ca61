package io.vaultmfa.operator.reconciler;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.javaoperatorsdk.operator.Operator;
import io.vaultmfa.operator.Main;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.MfaDeviceSpec;
import io.vaultmfa.operator.config.OperatorConfig;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.iam.Ownership;
import io.vaultmfa.operator.testing.SeedHygiene;
import io.vaultmfa.operator.testing.WithOperator;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Invariant I4 across clusters: two operators with different cluster ids share one AWS account and
 * one Vault (here: the harness's operator, cluster {@code test-cluster}, and a second one, {@code
 * other-cluster}, on its own API server). Bindings in the two clusters have the same namespace,
 * name and even uid; neither operator acts on the other's devices, and a clash is a Conflict on the
 * binding that came second.
 */
class ClusterIdIT extends WithOperator {

  static KubernetesMockServer otherApi;
  static KubernetesClient other;
  static Operator otherOperator;

  @BeforeAll
  static void startOtherCluster() {
    otherApi =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    otherApi.init();
    other = otherApi.createClient();
    Map<Setting, String> s = new HashMap<>();
    s.put(Setting.CLUSTER_ID, "other-cluster");
    s.put(Setting.VAULT_ADDRESS, h.bao.address());
    s.put(Setting.VAULT_TOKEN, h.bao.token());
    s.put(Setting.RESYNC_INTERVAL, "3s");
    s.put(Setting.METRICS_PORT, "0");
    s.put(Setting.SERVER_SIDE_APPLY, "false");
    otherOperator =
        Main.start(
            OperatorConfig.of(s), other, h.meters, h.moto.operatorSettings(List.of(h.iamBoundary)));
    h.stopOperator();
    h.startOperator(Map.of(Setting.RESYNC_INTERVAL, "3s"));
  }

  @AfterAll
  static void stopOtherCluster() {
    try {
      List<String> seeds = h.iamBoundary.allSeeds();
      SeedHygiene.assertNoSeedInCluster(other, seeds);
    } finally {
      otherOperator.stop();
      other.close();
      otherApi.destroy();
    }
  }

  @Test
  void sameUserAndDeviceInTheOtherClusterIsAConflictAndTouchesNothing() throws Exception {
    h.apply(binding("clu", "same", "clu-same"));
    String serial = h.awaitReady("clu", "same").getStatus().getSerialNumber();
    String seed = h.iamBoundary.seedOf(serial);
    Map<String, Instant> before = RotationIT.enabledWithDates("clu-same");

    other.resource(binding("clu", "same", "clu-same")).create();
    Condition c = awaitOther("clu", "same", "DeviceEnrolled", "False", "Conflict");

    assertThat(c.getMessage()).contains(serial, "another binding");
    assertUnchanged("clu-same", before, "clu.same", seed);
    assertThat(h.condition("clu", "same", "Ready").orElseThrow().getStatus()).isEqualTo("True");

    other.resources(AwsMfaBinding.class).inNamespace("clu").withName("same").delete();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                other.resources(AwsMfaBinding.class).inNamespace("clu").withName("same").get()
                    == null);

    assertUnchanged("clu-same", before, "clu.same", seed);
    assertThat(h.userExists("clu-same")).as("user created in the first cluster").isTrue();
  }

  @Test
  void devicesOfBothClustersOnOneUserLiveSideBySide() throws Exception {
    h.apply(binding("clu", "side", "clu-side"));
    String ourSerial = h.awaitReady("clu", "side").getStatus().getSerialNumber();
    AwsMfaBinding theirs = binding("clu", "side", "clu-side");
    MfaDeviceSpec device = new MfaDeviceSpec();
    device.setName("clu-side-other");
    theirs.getSpec().setMfaDevice(device);
    theirs.getSpec().getVault().setKeyName("clu.side.other");
    other.resource(theirs).create();
    awaitOther("clu", "side", "Ready", "True", null);
    String theirSerial = otherBinding("clu", "side").getStatus().getSerialNumber();
    String theirSeed = h.iamBoundary.seedOf(theirSerial);
    assertThat(ConflictIT.enabledSerials("clu-side"))
        .containsExactlyInAnyOrder(ourSerial, theirSerial);
    Map<String, Instant> before = RotationIT.enabledWithDates("clu-side");
    before.keySet().retainAll(List.of(theirSerial));

    // Rotating ours leaves theirs alone.
    RotationIT.edit("clu", "side", x -> x.getSpec().setRotation(RotationIT.rotation("r1", null)));
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> !ourSerial.equals(h.get("clu", "side").getStatus().getSerialNumber()));
    String rotated = h.awaitReady("clu", "side").getStatus().getSerialNumber();
    assertThat(rotated).endsWith(":mfa/clu-side-r1");
    assertUnchanged("clu-side", before, "clu.side.other", theirSeed);
    assertThat(ConflictIT.enabledSerials("clu-side"))
        .containsExactlyInAnyOrder(rotated, theirSerial);

    // Deleting ours, which created the user, keeps the user while their device is on it.
    h.delete("clu", "side");
    h.awaitGone("clu", "side");
    assertUnchanged("clu-side", before, "clu.side.other", theirSeed);
    assertThat(ConflictIT.enabledSerials("clu-side")).containsExactly(theirSerial);
    assertThat(h.vaultRead("totp/keys/clu.side")).as("our key").isEmpty();
    assertThat(otherBinding("clu", "side").getStatus().getConditions())
        .anySatisfy(
            x -> {
              assertThat(x.getType()).isEqualTo("Ready");
              assertThat(x.getStatus()).isEqualTo("True");
            });
  }

  @Test
  void deviceOfAnotherClusterWithOurBindingsUidIsNotOurs() {
    h.stopOperator();
    h.iam.createUser(r -> r.userName("clu-uid"));
    String uid = h.apply(binding("clu", "uid", "clu-uid")).getMetadata().getUid();
    Map<String, String> theirTags = new Ownership("other-cluster", uid, "clu/uid").tags();
    String[] device = RotationIT.enablePersonsDeviceOn(h, "clu-uid", "clu-uid", theirTags);
    Map<String, Instant> before = RotationIT.enabledWithDates("clu-uid");
    h.startOperator(Map.of(Setting.RESYNC_INTERVAL, "3s"));

    Condition c = h.awaitCondition("clu", "uid", "DeviceEnrolled", "False", "Conflict");
    assertThat(c.getMessage()).contains(device[0], "another binding");
    assertThat(h.vaultRead("totp/keys/clu.uid")).as("our Vault key").isEmpty();

    h.delete("clu", "uid");
    h.awaitGone("clu", "uid");
    assertThat(RotationIT.enabledWithDates("clu-uid")).isEqualTo(before);
    assertThat(h.virtualDevicesNamed("/", "clu-uid")).containsExactly(device[0]);
  }

  // ---- helpers

  static AwsMfaBinding otherBinding(String ns, String name) {
    return other.resources(AwsMfaBinding.class).inNamespace(ns).withName(name).get();
  }

  static Condition awaitOther(String ns, String name, String type, String status, String reason) {
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> otherCondition(ns, name, type, status, reason).isPresent());
    return otherCondition(ns, name, type, status, reason).orElseThrow();
  }

  static Optional<Condition> otherCondition(
      String ns, String name, String type, String status, String reason) {
    AwsMfaBinding b = otherBinding(ns, name);
    if (b == null || b.getStatus() == null) {
      return Optional.empty();
    }
    return b.getStatus().getConditions().stream()
        .filter(c -> type.equals(c.getType()) && status.equals(c.getStatus()))
        .filter(c -> reason == null || reason.equals(c.getReason()))
        .findFirst();
  }

  /** The devices (serial and enable date) are still enabled, and the key gives their codes. */
  static void assertUnchanged(String user, Map<String, Instant> devices, String key, String seed) {
    assertThat(RotationIT.enabledWithDates(user)).containsAllEntriesOf(devices);
    h.assertVaultCodeIsCodeOf("totp", key, seed);
  }
}
