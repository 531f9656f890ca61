package io.vaultmfa.operator.testing;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.vaultmfa.operator.api.AwsMfaBinding;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The seed check sees what is gone by the end of a test: a Secret deleted since, a condition
 * message replaced since. Only the cluster now would miss both.
 */
class ClusterRecorderIT {

  private static final String SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ";

  private KubernetesMockServer api;
  private KubernetesClient client;
  private ClusterRecorder seen;

  @BeforeEach
  void start() {
    api =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    api.init();
    client = api.createClient();
    seen = ClusterRecorder.start(client);
  }

  @AfterEach
  void stop() {
    seen.close();
    client.close();
    api.destroy();
  }

  @Test
  void aDeletedSecretThatHeldASeedIsFound() {
    client
        .secrets()
        .inNamespace("team-a")
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("leak")
                .withNamespace("team-a")
                .endMetadata()
                .addToStringData("URI", "otpauth://totp/x?secret=" + SEED)
                .build())
        .create();
    awaitVersions(1);
    client.secrets().inNamespace("team-a").withName("leak").delete();
    awaitVersions(2);

    assertThatCode(() -> SeedHygiene.assertNoSeedInCluster(client, List.of(SEED)))
        .as("the cluster now")
        .doesNotThrowAnyException();
    assertThatThrownBy(() -> seen.assertNoSeed(List.of(SEED)))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("Secret team-a/leak");
  }

  @Test
  void aConditionMessageThatHeldASeedAndWasReplacedIsFound() {
    AwsMfaBinding b = OperatorHarness.binding("team-a", "aws", "TOTP");
    b = client.resource(b).create();
    b.getStatus().setConditions(List.of(condition("cannot write key " + SEED)));
    b = client.resource(b).updateStatus();
    b.getStatus().setConditions(List.of(condition("cannot write key [redacted]")));
    client.resource(b).updateStatus();
    awaitVersions(3);

    assertThatCode(() -> SeedHygiene.assertNoSeedInCluster(client, List.of(SEED)))
        .as("the cluster now")
        .doesNotThrowAnyException();
    assertThatThrownBy(() -> seen.assertNoSeed(List.of(SEED)))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("a version of a binding");
  }

  private static io.fabric8.kubernetes.api.model.Condition condition(String message) {
    return new io.fabric8.kubernetes.api.model.ConditionBuilder()
        .withType("Ready")
        .withStatus("False")
        .withReason("VaultUnavailable")
        .withMessage(message)
        .build();
  }

  private void awaitVersions(int n) {
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> seen.versions() >= n);
  }
}
