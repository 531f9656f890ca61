package io.vaultmfa.operator.e2e;

import static io.vaultmfa.operator.e2e.ClusterSetup.OPERATOR_NAMESPACE;
import static io.vaultmfa.operator.e2e.ClusterSetup.OPERATOR_SA;
import static io.vaultmfa.operator.e2e.ClusterSetup.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vaultmfa.operator.Main;
import io.vaultmfa.operator.VaultMfaOperator;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.config.OperatorConfig;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.metrics.HealthServer;
import io.vaultmfa.operator.testing.KubeControlPlane;
import io.vaultmfa.operator.testing.LogCapture;
import io.vaultmfa.operator.testing.MotoServer;
import io.vaultmfa.operator.testing.OpenBaoServer;
import io.vaultmfa.operator.testing.OperatorHarness;
import io.vaultmfa.operator.testing.PrometheusText;
import io.vaultmfa.operator.testing.SeedCapture;
import io.vaultmfa.operator.testing.SeedHygiene;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two replicas of the operator on a real kube-apiserver, each with its own client (the token of
 * {@code deploy/}'s ServiceAccount, so the ClusterRole must grant the Lease), identity and metrics:
 * one holds the Lease and reconciles, the other stands by without reconciling; when the leader
 * stops, the standby takes the Lease and reconciles.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(SharedControlPlane.class)
class LeaderElectionE2E {

  static final String NS = "ha-e2e";
  static final String LEASE = "ha-e2e";

  static KubeControlPlane cp;
  static OpenBaoServer bao;
  static MotoServer moto;
  static LogCapture logs;
  static final SeedCapture iamBoundary = new SeedCapture();
  static final AtomicInteger lostLeases = new AtomicInteger();
  static final HttpClient http = HttpClient.newHttpClient();
  static Replica a;
  static Replica b;
  static Replica leader;
  static Replica standby;

  /** One replica: its client, registry, operator and health endpoints. */
  record Replica(
      String identity,
      KubernetesClient client,
      PrometheusMeterRegistry registry,
      VaultMfaOperator operator,
      HealthServer health) {

    PrometheusText metrics() {
      return PrometheusText.parse(get("/metrics").body());
    }

    HttpResponse<String> get(String path) {
      try {
        return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + health.port() + path)).build(),
            HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    double reconciles() {
      return metrics().sum("operator_sdk_reconciliations_started_total");
    }
  }

  @BeforeAll
  static void startTwoReplicas() throws IOException {
    logs = LogCapture.install();
    cp = SharedControlPlane.get();
    bao = OpenBaoServer.start();
    moto = MotoServer.start();
    ok(cp.kubectl("create", "namespace", NS), "kubectl create namespace " + NS);
    String jwt = ClusterSetup.token(cp, OPERATOR_NAMESPACE, OPERATOR_SA);
    Path kubeconfig = cp.kubeconfigForToken("vault-mfa-operator-ha", jwt);
    // One identity for both, as when it is set in the ConfigMap every replica reads.
    a = replica("replica", kubeconfig);
    b = replica("replica", kubeconfig);
  }

  static Replica replica(String identity, Path kubeconfig) throws IOException {
    Map<Setting, String> s = new EnumMap<>(Setting.class);
    s.put(Setting.CLUSTER_ID, "ha");
    s.put(Setting.VAULT_ADDRESS, bao.address());
    s.put(Setting.VAULT_TOKEN, bao.token());
    s.put(Setting.METRICS_PORT, "0");
    s.put(Setting.WATCH_NAMESPACES, NS);
    s.put(Setting.LEADER_ELECTION, "true");
    s.put(Setting.LEASE_NAME, LEASE);
    s.put(Setting.LEASE_NAMESPACE, OPERATOR_NAMESPACE);
    s.put(Setting.LEASE_DURATION, "6s");
    s.put(Setting.LEADER_IDENTITY, identity);
    KubernetesClient client =
        new KubernetesClientBuilder()
            .withConfig(Config.fromKubeconfig(kubeconfig.toFile()))
            .build();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    VaultMfaOperator operator =
        Main.start(
            OperatorConfig.of(s),
            client,
            registry,
            moto.operatorSettings(List.of(iamBoundary)),
            lostLeases::incrementAndGet);
    assertThat(operator.leaderIdentity())
        .as("a per-process suffix, so that replicas sharing a ConfigMap never share a name")
        .startsWith(identity + "_");
    return new Replica(
        operator.leaderIdentity(), client, registry, operator, operator.serve(0, registry));
  }

  static String holder() {
    Lease lease = cp.client().leases().inNamespace(OPERATOR_NAMESPACE).withName(LEASE).get();
    return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }

  static AwsMfaBinding binding(String name) {
    return cp.client().resources(AwsMfaBinding.class).inNamespace(NS).withName(name).get();
  }

  static void applyAndAwaitReady(String name, String user) {
    cp.client().resource(OperatorHarness.binding(NS, name, user)).create();
    var waited =
        cp.kubectl(
            "wait", "--for=condition=Ready", "awsmfabinding/" + name, "-n", NS, "--timeout=90s");
    assertThat(waited.exitCode())
        .as("kubectl wait Ready %s: %s; status %s", name, waited, binding(name).getStatus())
        .isZero();
  }

  @Test
  @Order(1)
  void oneReplicaHoldsTheLeaseAndTheOtherStandsBy() {
    await().atMost(Duration.ofSeconds(30)).until(() -> holder() != null);
    String holder = holder();
    assertThat(holder).isIn(a.identity(), b.identity());
    leader = holder.equals(a.identity()) ? a : b;
    standby = leader == a ? b : a;
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> leader.operator().isLeader() && !standby.operator().isLeader());

    assertThat(leader.metrics().value("vaultmfa_leader")).contains(1.0);
    assertThat(standby.metrics().value("vaultmfa_leader")).contains(0.0);
    // Both are ready: the standby's caches are warm. The body says which one leads.
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(leader.get("/readyz").body()).isEqualTo("ready, leader\n");
              assertThat(standby.get("/readyz").body()).isEqualTo("ready, standby\n");
            });
  }

  @Test
  @Order(2)
  void onlyTheLeaderReconciles() {
    applyAndAwaitReady("first", "HaFirst");
    assertThat(leader.reconciles()).as("reconciles by the leader").isPositive();
    assertThat(standby.reconciles()).as("reconciles by the standby").isZero();
    assertThat(standby.metrics().named("vaultmfa_bindings"))
        .as("only the leader reports the bindings gauge")
        .isEmpty();
    assertThat(leader.metrics().value("vaultmfa_bindings", "ready", "True", "reason", "Ready"))
        .contains(1.0);
  }

  @Test
  @Order(3)
  void theStandbyTakesOverWhenTheLeaderStops() {
    Instant stopped = Instant.now();
    leader.operator().stop();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> standby.identity().equals(holder()) && standby.operator().isLeader());
    System.out.printf(
        "LeaderElectionE2E: %s took the Lease %d ms after %s stopped%n",
        standby.identity(), Duration.between(stopped, Instant.now()).toMillis(), leader.identity());
    assertThat(standby.metrics().value("vaultmfa_leader")).contains(1.0);

    applyAndAwaitReady("second", "HaSecond");
    assertThat(standby.reconciles()).as("reconciles by the new leader").isPositive();
    assertThat(standby.metrics().value("vaultmfa_bindings", "ready", "True", "reason", "Ready"))
        .contains(2.0);
    assertThat(lostLeases).as("no replica lost the Lease while running").hasValue(0);
  }

  @AfterAll
  static void stopEverything() {
    try {
      if (standby != null && standby.operator().isLeader()) {
        for (String name : List.of("first", "second")) {
          cp.client().resources(AwsMfaBinding.class).inNamespace(NS).withName(name).delete();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> binding("first") == null);
        await().atMost(Duration.ofSeconds(60)).until(() -> binding("second") == null);
      }
    } finally {
      for (Replica r : new Replica[] {a, b}) {
        if (r != null) {
          r.operator().stop();
          r.client().close();
        }
      }
      try {
        SeedHygiene.assertNoSeed("the operator's logs", logs.all(), iamBoundary.allSeeds());
        SeedHygiene.assertNoSeedInCluster(cp.client(), iamBoundary.allSeeds());
      } finally {
        logs.uninstall();
        if (moto != null) {
          moto.close();
        }
        if (bao != null) {
          bao.close();
        }
      }
    }
  }
}
