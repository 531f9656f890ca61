package io.vaultmfa.operator.e2e;

import static io.vaultmfa.operator.e2e.ClusterSetup.OPERATOR_NAMESPACE;
import static io.vaultmfa.operator.e2e.ClusterSetup.OPERATOR_SA;
import static io.vaultmfa.operator.e2e.ClusterSetup.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.vaultmfa.operator.testing.KubeControlPlane;
import io.vaultmfa.operator.testing.MotoServer;
import io.vaultmfa.operator.testing.OpenBaoServer;
import io.vaultmfa.operator.testing.PrometheusText;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The runnable jar that {@code mvn package} builds, started as its own process the way the
 * container starts it ({@code java -jar}, settings from environment variables only, JSON logs,
 * leader election on), against the real API server with the ServiceAccount of {@code deploy/}: it
 * serves /healthz and /readyz, makes a binding Ready, shows it in /metrics, logs JSON lines that
 * name the binding, and on SIGTERM stops and hands its Lease back.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(SharedControlPlane.class)
class PackagedOperatorE2E {

  static final String NS = "jar-e2e";
  static final String LEASE = "jar-e2e";
  static final String BINDING = "packaged";
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient http = HttpClient.newHttpClient();

  static KubeControlPlane cp;
  static OpenBaoServer bao;
  static MotoServer moto;
  static Process process;
  static Path stdout;
  static Path stderr;
  static int port;

  @BeforeAll
  static void startTheJar() throws IOException {
    Path jar = runnableJar();
    cp = SharedControlPlane.get();
    bao = OpenBaoServer.start();
    moto = MotoServer.start();
    ok(cp.kubectl("create", "namespace", NS), "kubectl create namespace " + NS);
    Path kubeconfig =
        cp.kubeconfigForToken(
            "vault-mfa-operator-jar", ClusterSetup.token(cp, OPERATOR_NAMESPACE, OPERATOR_SA));
    port = freePort();
    Path logs = Path.of("target/it-logs");
    Files.createDirectories(logs);
    stdout = logs.resolve("packaged-operator.out.log");
    stderr = logs.resolve("packaged-operator.err.log");
    Path workDir = Files.createTempDirectory("vaultmfa-jar");
    ProcessBuilder pb =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-jar",
                jar.toAbsolutePath().toString())
            .directory(workDir.toFile())
            .redirectOutput(stdout.toFile())
            .redirectError(stderr.toFile());
    Map<String, String> env = pb.environment();
    env.keySet()
        .removeIf(
            k -> k.startsWith("VAULT") || k.startsWith("AWS_") || k.equals("JAVA_TOOL_OPTIONS"));
    env.put("KUBECONFIG", kubeconfig.toString());
    env.put("VAULTMFA_CLUSTER_ID", "jar");
    env.put("VAULT_ADDR", bao.address());
    env.put("VAULT_TOKEN", bao.token());
    env.put("VAULTMFA_AWS_IAM_ENDPOINT", moto.endpoint().toString());
    env.put("VAULTMFA_AWS_STS_ENDPOINT", moto.endpoint().toString());
    env.put("AWS_ACCESS_KEY_ID", "testing");
    env.put("AWS_SECRET_ACCESS_KEY", "testing");
    env.put("AWS_REGION", "us-east-1");
    env.put("VAULTMFA_METRICS_PORT", String.valueOf(port));
    env.put("VAULTMFA_WATCH_NAMESPACES", NS);
    env.put("VAULTMFA_LOG_FORMAT", "json");
    env.put("VAULTMFA_LEADER_ELECTION", "true");
    env.put("VAULTMFA_LEASE_NAME", LEASE);
    env.put("POD_NAMESPACE", OPERATOR_NAMESPACE);
    env.put("HOSTNAME", "vault-mfa-operator-jar-0");
    process = pb.start();
  }

  /** {@code target/vault-mfa-operator-<version>.jar}, built by {@code mvn package}. */
  static Path runnableJar() throws IOException {
    Path target = Path.of("target");
    List<Path> jars;
    try (Stream<Path> s = Files.list(target)) {
      jars =
          s.filter(p -> p.getFileName().toString().matches("vault-mfa-operator-[^-]+.*\\.jar"))
              .filter(p -> !p.getFileName().toString().matches(".*-(sources|tests|javadoc)\\.jar"))
              .toList();
    }
    Assumptions.assumeTrue(
        !jars.isEmpty() && Files.isDirectory(target.resolve("lib")),
        "no runnable jar in target/: run mvn package (mvn verify does) before this test");
    return jars.get(0);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static HttpResponse<String> get(String path) {
    try {
      return http.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
              .timeout(Duration.ofSeconds(5))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static String output() {
    return ClusterSetup.read(stdout) + ClusterSetup.read(stderr);
  }

  @Test
  @Order(1)
  void servesHealthAndBecomesReadyAsLeader() {
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(250))
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              assertThat(process.isAlive()).as("the process runs; it said:%n%s", output()).isTrue();
              assertThat(get("/healthz").statusCode()).isEqualTo(200);
              HttpResponse<String> ready = get("/readyz");
              assertThat(ready.statusCode()).isEqualTo(200);
              assertThat(ready.body()).isEqualTo("ready, leader\n");
            });
    assertThat(holder())
        .as("the pod's name with a per-process suffix")
        .matches("vault-mfa-operator-jar-0_[0-9a-f]{8}");
  }

  @Test
  @Order(2)
  void makesABindingReadyAndShowsItInMetrics() {
    String manifest =
        String.join(
            "\n",
            "apiVersion: vaultmfa.io/v1alpha1",
            "kind: AwsMfaBinding",
            "metadata: {name: " + BINDING + ", namespace: " + NS + "}",
            "spec:",
            "  iamUser: {name: PackagedUser}",
            "");
    ok(cp.kubectlWithInput(manifest, "apply", "-f", "-"), "kubectl apply the binding");
    var waited =
        cp.kubectl(
            "wait", "--for=condition=Ready", "awsmfabinding/" + BINDING, "-n", NS, "--timeout=90s");
    assertThat(waited.exitCode()).as("kubectl wait: %s%n%s", waited, output()).isZero();

    // The gauge counts the informer's cache, which sees the status a moment after kubectl does.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(
                        PrometheusText.parse(get("/metrics").body())
                            .value("vaultmfa_bindings", "ready", "True", "reason", "Ready"))
                    .contains(1.0));
    PrometheusText m = PrometheusText.parse(get("/metrics").body());
    assertThat(m.value("vaultmfa_leader")).contains(1.0);
    assertThat(m.value("vaultmfa_enrolments_total", "outcome", "success")).contains(1.0);
    assertThat(m.value("vaultmfa_time_to_ready_seconds_count")).contains(1.0);
    assertThat(m.sum("jvm_memory_used_bytes")).as("the JVM's own metrics").isPositive();
    assertThat(m.named("process_cpu_usage")).isNotEmpty();
  }

  @Test
  @Order(3)
  void logsOneJsonObjectPerLineNamingTheBinding() throws IOException {
    List<JsonNode> lines = new ArrayList<>();
    for (String line : Files.readAllLines(stdout)) {
      assertThat(line).as("a line of standard output").startsWith("{");
      lines.add(JSON.readTree(line));
    }
    assertThat(lines)
        .filteredOn(l -> BINDING.equals(l.path("mdc").path("resource.name").asText()))
        .as("lines about the binding")
        .isNotEmpty()
        .allSatisfy(
            l -> assertThat(l.path("mdc").path("resource.namespace").asText()).isEqualTo(NS))
        .anySatisfy(
            l -> assertThat(l.path("formattedMessage").asText()).startsWith("DeviceEnrolled: "));
  }

  @Test
  @Order(4)
  void stopsOnSigtermAndHandsTheLeaseBack() throws InterruptedException {
    ok(cp.kubectl("delete", "awsmfabinding", BINDING, "-n", NS, "--timeout=60s"), "delete");
    process.destroy(); // SIGTERM, as the kubelet sends
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exits after SIGTERM").isTrue();
    assertThat(holder()).as("the Lease is free for a standby at once").isNull();
  }

  static String holder() {
    Lease lease = cp.client().leases().inNamespace(OPERATOR_NAMESPACE).withName(LEASE).get();
    return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }

  @AfterAll
  static void stopEverything() throws InterruptedException {
    try {
      if (process != null && process.isAlive()) {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      }
    } finally {
      if (moto != null) {
        moto.close();
      }
      if (bao != null) {
        bao.close();
      }
    }
  }
}
