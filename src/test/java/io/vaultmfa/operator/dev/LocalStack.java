package io.vaultmfa.operator.dev;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.FileAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vaultmfa.operator.Main;
import io.vaultmfa.operator.VaultMfaOperator;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.Reason;
import io.vaultmfa.operator.config.OperatorConfig;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.iam.IamProvider;
import io.vaultmfa.operator.metrics.HealthServer;
import io.vaultmfa.operator.testing.KubeControlPlane;
import io.vaultmfa.operator.testing.MotoServer;
import io.vaultmfa.operator.testing.OpenBaoServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.LoggerFactory;

/**
 * The local stack: OpenBao (TOTP engine at {@code totp/}), moto and a real Kubernetes control plane
 * (etcd, kube-apiserver, kube-controller-manager; {@code scripts/controlplane.sh}), all on
 * loopback, with the operator running in this JVM through {@link Main#start}. Applies {@code
 * config/samples/awsmfabinding.yaml}, waits until it is Ready, and prints what a user would look
 * at: a {@code kubectl get} line, the status, the Secret, and a live code read with the real {@code
 * bao} CLI.
 *
 * <p>{@code --once}: stop everything and exit 0 after that (non-zero on failure). Without it the
 * stack keeps running until Ctrl-C and prints the addresses to poke at it.
 *
 * <p>The operator authenticates to the API server as its admin here; the end-to-end tests prove it
 * with the ServiceAccount and ClusterRole of {@code deploy/}.
 *
 * <p>Run it with {@code scripts/run-local.sh}; the working directory must be the repository root.
 */
public final class LocalStack implements AutoCloseable {

  static final String CLUSTER_ID = "local";
  static final Path SAMPLE = Paths.get("config", "samples", "awsmfabinding.yaml");
  static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

  /** Short, so that drift you cause by hand (a deleted Vault key, say) is looked at soon. */
  static final String RESYNC = "30s";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final PrintStream OUT = System.out;

  private final Instant started = Instant.now();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private OpenBaoServer bao;
  private MotoServer moto;
  private KubeControlPlane controlPlane;
  private KubernetesClient client;
  private VaultMfaOperator operator;
  private HealthServer health;
  private AwsMfaBinding sample;

  /** Thrown for an expected failure; its message is what the user reads. */
  static final class Failure extends RuntimeException {
    Failure(String message) {
      super(message);
    }

    Failure(String message, Throwable cause) {
      super(message, cause);
    }
  }

  public static void main(String[] args) {
    boolean once = false;
    for (String a : args) {
      switch (a) {
        case "--once" -> once = true;
        case "-h", "--help" -> {
          usage(OUT);
          return;
        }
        default -> {
          System.err.println("local stack: unknown argument " + a);
          usage(System.err);
          System.exit(2);
        }
      }
    }
    LocalStack stack = new LocalStack();
    Runtime.getRuntime().addShutdownHook(new Thread(stack::close, "local-stack-stop"));
    int rc;
    try {
      stack.run(once);
      rc = 0;
    } catch (Failure | IllegalStateException | java.io.UncheckedIOException e) {
      stack.fail(e);
      rc = 1;
    } catch (RuntimeException e) {
      stack.fail(e);
      e.printStackTrace(System.err);
      rc = 1;
    }
    stack.close();
    System.exit(rc);
  }

  private static void usage(PrintStream out) {
    out.println("usage: scripts/run-local.sh [--once]");
    out.println("  Starts OpenBao, moto and a Kubernetes control plane on loopback,");
    out.println("  runs the operator, applies " + SAMPLE + " and prints a live code.");
    out.println("  --once   stop everything and exit after the check (0: Ready and a code)");
  }

  private void run(boolean once) {
    OUT.println("vault-mfa-operator local stack");
    OUT.println(
        "  OpenBao, moto (as IAM and STS) and kube-apiserver on loopback; state is lost on stop.");
    OUT.println();
    up();
    AwsMfaBinding ready = applySampleAndAwaitReady();
    report(ready);
    if (once) {
      OUT.println();
      OUT.println(
          "OK: " + ref() + " is Ready and Vault gives a live 6-digit code; stopping (--once).");
      return;
    }
    printAddresses(ready);
    try {
      new CountDownLatch(1).await(); // until Ctrl-C; the shutdown hook stops everything
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- start

  private void up() {
    step("starting OpenBao dev server (bao server -dev) ...");
    bao = OpenBaoServer.start();
    step(
        "OpenBao        " + bao.address() + "  (TOTP engine at " + OpenBaoServer.TOTP_MOUNT + "/)");

    step("starting moto server ...");
    moto = MotoServer.start();
    step("moto (AWS)     " + moto.endpoint());

    step("starting the Kubernetes control plane (etcd, kube-apiserver, controller-manager) ...");
    controlPlane = KubeControlPlane.start();
    client = controlPlane.client();
    KubeControlPlane.Result crds = controlPlane.kubectl("apply", "-f", "crds/");
    if (crds.exitCode() != 0) {
      throw new Failure("kubectl apply -f crds/ failed: " + crds.output());
    }
    controlPlane.kubectl(
        "wait", "--for=condition=Established", "crd/awsmfabindings.vaultmfa.io", "--timeout=30s");
    step("Kubernetes API " + client.getMasterUrl() + "  (kube-apiserver; CRD from crds/ applied)");

    Map<Setting, String> s = new EnumMap<>(Setting.class);
    s.put(Setting.CLUSTER_ID, CLUSTER_ID);
    s.put(Setting.VAULT_ADDRESS, bao.address());
    s.put(Setting.VAULT_TOKEN, bao.token());
    s.put(Setting.RESYNC_INTERVAL, RESYNC);
    s.put(Setting.METRICS_PORT, "0");
    OperatorConfig config = OperatorConfig.of(s);
    IamProvider.Settings aws = moto.operatorSettings(List.of());
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    operator = Main.start(config, client, registry, aws);
    try {
      // The operator's own endpoints, as the packaged operator serves them.
      health = operator.serve(0, registry);
    } catch (IOException e) {
      throw new Failure("cannot start the metrics server: " + e.getMessage(), e);
    }
    step(
        "operator       started (cluster id "
            + CLUSTER_ID
            + ", resync "
            + RESYNC
            + ")"
            + logFile().map(f -> "; logs in " + f).orElse(""));
  }

  // ---- the sample

  private AwsMfaBinding applySampleAndAwaitReady() {
    if (!Files.isRegularFile(SAMPLE)) {
      throw new Failure(SAMPLE.toAbsolutePath() + " not found; run from the repository root");
    }
    try (InputStream in = Files.newInputStream(SAMPLE)) {
      sample = Serialization.unmarshal(in, AwsMfaBinding.class);
    } catch (IOException | RuntimeException e) {
      throw new Failure("cannot read " + SAMPLE + ": " + e.getMessage(), e);
    }
    if (sample == null || sample.getMetadata() == null || sample.getMetadata().getName() == null) {
      throw new Failure(SAMPLE + " is not an AwsMfaBinding with a metadata.name");
    }
    if (sample.getMetadata().getNamespace() == null) {
      sample.getMetadata().setNamespace("default");
    }
    KubeControlPlane.Result applied = controlPlane.kubectl("apply", "-f", SAMPLE.toString());
    if (applied.exitCode() != 0) {
      throw new Failure("kubectl apply -f " + SAMPLE + " failed: " + applied.output());
    }
    step("kubectl apply  " + SAMPLE + " -> AwsMfaBinding " + ref());

    Instant deadline = Instant.now().plus(READY_TIMEOUT);
    String last = "";
    while (true) {
      AwsMfaBinding b = current();
      Optional<Condition> r = readyCondition(b);
      String now = r.map(c -> "Ready=" + c.getStatus() + " (" + c.getReason() + ")").orElse("");
      if (!now.isEmpty() && !now.equals(last)) {
        step(now + r.map(c -> c.getMessage() == null ? "" : ": " + c.getMessage()).orElse(""));
        last = now;
      }
      if (r.filter(c -> "True".equals(c.getStatus())).isPresent()) {
        return b;
      }
      if (r.filter(c -> "False".equals(c.getStatus())).map(LocalStack::terminal).orElse(false)) {
        throw new Failure(
            ref()
                + " is not Ready and will not become Ready without a change: "
                + r.get().getReason()
                + " is terminal");
      }
      if (Instant.now().isAfter(deadline)) {
        throw new Failure(
            ref() + " did not become Ready within " + READY_TIMEOUT.toSeconds() + " s");
      }
      sleep(Duration.ofMillis(250));
    }
  }

  // ---- what a user looks at

  private void report(AwsMfaBinding b) {
    var st = b.getStatus();
    Condition ready = readyCondition(b).orElseThrow();

    OUT.println();
    OUT.println("$ kubectl get awsmfabindings -n " + ns());
    KubeControlPlane.Result get = controlPlane.kubectl("get", "awsmfabindings", "-n", ns());
    OUT.print(get.output().endsWith("\n") ? get.output() : get.output() + "\n");

    OUT.println();
    OUT.println("status:");
    for (String line : Serialization.asYaml(st).split("\n")) {
      if (!line.equals("---") && !line.isBlank()) {
        OUT.println("  " + line);
      }
    }

    OUT.println();
    List<Event> events = new ArrayList<>(client.v1().events().inNamespace(ns()).list().getItems());
    events.removeIf(
        e ->
            e.getInvolvedObject() == null
                || !b.getMetadata().getUid().equals(e.getInvolvedObject().getUid()));
    events.sort(Comparator.comparing(e -> String.valueOf(e.getLastTimestamp())));
    OUT.println("Events:");
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("TYPE", "REASON", "MESSAGE"));
    events.forEach(e -> rows.add(List.of(e.getType(), e.getReason(), e.getMessage())));
    table(rows);

    OUT.println();
    String secretName = st.getSecretName();
    Secret secret = client.secrets().inNamespace(ns()).withName(secretName).get();
    if (secret == null || secret.getData() == null) {
      throw new Failure("Secret " + ns() + "/" + secretName + " not found");
    }
    OUT.println("Secret " + ns() + "/" + secretName + " (pointers for envFrom, not secrets):");
    Map<String, String> data = new LinkedHashMap<>();
    for (String k :
        List.of(
            "VAULT_ADDR",
            "VAULT_TOTP_CODE_PATH",
            "AWS_MFA_SERIAL_NUMBER",
            "AWS_IAM_USER_NAME",
            "AWS_ACCOUNT_ID")) {
      if (secret.getData().containsKey(k)) {
        data.put(k, secret.getData().get(k));
      }
    }
    secret.getData().forEach(data::putIfAbsent);
    data.forEach((k, v) -> OUT.println("  " + k + "=" + decode(v)));

    OUT.println();
    metrics();

    OUT.println();
    liveCode(st.getVaultCodePath());
  }

  /** The operator's own /metrics, as Prometheus scrapes it: the Ready binding is counted. */
  private void metrics() {
    String url = "http://127.0.0.1:" + health.port() + "/metrics";
    String body;
    try {
      body =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString())
              .body();
    } catch (IOException e) {
      throw new Failure("cannot read " + url + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Failure("interrupted reading " + url, e);
    }
    List<String> lines =
        body.lines()
            .filter(
                l ->
                    l.startsWith("vaultmfa_bindings{")
                        || l.startsWith("vaultmfa_enrolments_total{")
                        || l.startsWith("vaultmfa_time_to_ready_seconds_count"))
            .toList();
    if (lines.stream().noneMatch(l -> l.startsWith("vaultmfa_bindings{ready=\"True\""))) {
      throw new Failure(url + " does not count the Ready binding in vaultmfa_bindings");
    }
    OUT.println(
        "$ curl -s "
            + url
            + " | grep -E '^vaultmfa_(bindings|enrolments_total|time_to_ready_seconds_count)'");
    lines.forEach(OUT::println);
  }

  /**
   * Reads a code with the real {@code bao} CLI, checks its shape (6 digits, without computing
   * anything from the seed), and that Vault's HTTP API gives the same code in the same window.
   */
  private void liveCode(String codePath) {
    if (codePath == null || codePath.isEmpty()) {
      throw new Failure("status.vaultCodePath is empty");
    }
    for (int attempt = 0; attempt < 3; attempt++) {
      long window = Instant.now().getEpochSecond() / 30;
      String cli = baoRead(codePath);
      String viaApi = apiCode(codePath);
      long windowAfter = Instant.now().getEpochSecond() / 30;
      if (window != windowAfter) {
        continue; // the 30 s window turned between the two reads: read both again
      }
      OUT.println(
          "$ BAO_ADDR="
              + bao.address()
              + " BAO_TOKEN=... .tools/bin/bao read"
              + " -field=code "
              + codePath);
      OUT.println(cli);
      if (!cli.matches("\\d{6}")) {
        throw new Failure("bao read -field=code " + codePath + " gave '" + cli + "', not 6 digits");
      }
      OUT.println("check: 6 digits .................................. ok");
      if (!cli.equals(viaApi)) {
        throw new Failure(
            "the bao CLI gave "
                + cli
                + " but Vault's HTTP API gave "
                + viaApi
                + " in the same 30 s window");
      }
      OUT.println("check: Vault HTTP API gives the same code ........ ok");
      return;
    }
    throw new Failure("could not read two codes within one 30 s window");
  }

  private String baoRead(String codePath) {
    Path bin = toolsDir().resolve("bin").resolve("bao");
    if (!Files.isExecutable(bin)) {
      throw new Failure(bin + " is missing: run scripts/install-tools.sh first");
    }
    ProcessBuilder pb = new ProcessBuilder(bin.toString(), "read", "-field=code", codePath);
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("BAO_") || k.startsWith("VAULT_"));
    env.put("BAO_ADDR", bao.address());
    env.put("BAO_TOKEN", bao.token());
    try {
      Process p = pb.start();
      p.getOutputStream().close();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new Failure("bao read did not finish within 20 s");
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (p.exitValue() != 0) {
        throw new Failure(
            "bao read -field=code " + codePath + " exited with " + p.exitValue() + ": " + err);
      }
      return out;
    } catch (IOException e) {
      throw new Failure("cannot run " + bin + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Failure("interrupted while running bao", e);
    }
  }

  private String apiCode(String codePath) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(bao.address() + "/v1/" + codePath))
                  .timeout(Duration.ofSeconds(10))
                  .header("X-Vault-Token", bao.token())
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new Failure("GET /v1/" + codePath + " answered HTTP " + r.statusCode());
      }
      JsonNode n = JSON.readTree(r.body()).path("data").path("code");
      return n.asText();
    } catch (IOException e) {
      throw new Failure("cannot read /v1/" + codePath + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Failure("interrupted while reading a code", e);
    }
  }

  private void printAddresses(AwsMfaBinding b) {
    String code = b.getStatus().getVaultCodePath();
    OUT.println();
    OUT.println("The stack keeps running; press Ctrl-C to stop it (everything is in memory).");
    OUT.println();
    OUT.println("Vault (OpenBao dev server, root token):");
    OUT.println("  export BAO_ADDR=" + bao.address() + " BAO_TOKEN=" + bao.token());
    OUT.println("  export VAULT_ADDR=$BAO_ADDR VAULT_TOKEN=$BAO_TOKEN   # for the vault CLI");
    OUT.println("  .tools/bin/bao read -field=code " + code);
    OUT.println("AWS IAM (moto; credentials testing/testing, account 123456789012):");
    OUT.println("  endpoint " + moto.endpoint() + "   dashboard " + moto.endpoint() + "/moto-api/");
    OUT.println(
        "  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing aws --region us-east-1 \\");
    OUT.println(
        "    --endpoint-url "
            + moto.endpoint()
            + " iam list-mfa-devices --user-name "
            + b.getSpec().getIamUser().getName());
    OUT.println("Kubernetes (kube-apiserver " + client.getMasterUrl() + "):");
    OUT.println("  export KUBECONFIG=" + controlPlane.kubeconfig().toAbsolutePath());
    OUT.println("  kubectl get awsmfabindings -A");
    OUT.println("  kubectl describe awsmfabinding " + b.getMetadata().getName());
    OUT.println(
        "Operator metrics: http://127.0.0.1:"
            + health.port()
            + "/metrics"
            + "   (also /healthz, /readyz)");
    logFile().ifPresent(f -> OUT.println("Operator logs:    " + f));
    OUT.println(
        "The operator resyncs every "
            + RESYNC
            + ": delete the Vault key or edit the"
            + " device in moto and watch it react.");
  }

  // ---- failure and stop

  private void fail(RuntimeException e) {
    System.err.println();
    System.err.println("local stack FAILED: " + e.getMessage());
    if (client != null && sample != null) {
      try {
        AwsMfaBinding b = current();
        if (b == null) {
          System.err.println("  binding " + ref() + " does not exist");
        } else if (b.getStatus() == null || b.getStatus().getConditions().isEmpty()) {
          System.err.println("  binding " + ref() + " has no conditions yet");
        } else {
          System.err.println("  conditions of " + ref() + ":");
          for (Condition c : b.getStatus().getConditions()) {
            System.err.println(
                "    "
                    + c.getType()
                    + "="
                    + c.getStatus()
                    + " ("
                    + c.getReason()
                    + "): "
                    + c.getMessage());
          }
        }
      } catch (RuntimeException inner) {
        System.err.println("  cannot read binding " + ref() + ": " + inner.getMessage());
      }
    }
    logFile().ifPresent(f -> System.err.println("  operator logs: " + f));
    System.err.println(
        "  process logs (OpenBao, moto): " + Paths.get("target", "it-logs").toAbsolutePath());
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    OUT.println();
    OUT.println("stopping the local stack ...");
    quietly(
        () -> {
          if (operator != null) {
            operator.stop();
          }
        });
    quietly(
        () -> {
          if (health != null) {
            health.close();
          }
        });
    quietly(
        () -> {
          if (client != null) {
            client.close();
          }
        });
    quietly(
        () -> {
          if (controlPlane != null) {
            controlPlane.close();
          }
        });
    quietly(
        () -> {
          if (moto != null) {
            moto.close();
          }
        });
    quietly(
        () -> {
          if (bao != null) {
            bao.close();
          }
        });
    OUT.println("stopped.");
    OUT.flush();
  }

  // ---- helpers

  private AwsMfaBinding current() {
    return client
        .resources(AwsMfaBinding.class)
        .inNamespace(ns())
        .withName(sample.getMetadata().getName())
        .get();
  }

  private static Optional<Condition> readyCondition(AwsMfaBinding b) {
    if (b == null || b.getStatus() == null || b.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return b.getStatus().getConditions().stream()
        .filter(c -> "Ready".equals(c.getType()))
        .findFirst();
  }

  /** A reason that retrying cannot fix (the spec or Vault must change first). */
  private static boolean terminal(Condition c) {
    try {
      return Reason.valueOf(c.getReason()).terminal();
    } catch (IllegalArgumentException | NullPointerException e) {
      return false;
    }
  }

  private String ns() {
    return sample.getMetadata().getNamespace();
  }

  private String ref() {
    return ns() + "/" + sample.getMetadata().getName();
  }

  private void step(String message) {
    double s = Duration.between(started, Instant.now()).toMillis() / 1000.0;
    OUT.printf("[%5.1fs] %s%n", s, message);
  }

  /** Columns as kubectl prints them: left-aligned, three spaces apart. */
  private static void table(List<List<String>> rows) {
    int cols = rows.get(0).size();
    int[] w = new int[cols];
    for (List<String> r : rows) {
      for (int i = 0; i < cols; i++) {
        w[i] = Math.max(w[i], String.valueOf(r.get(i)).length());
      }
    }
    for (List<String> r : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < cols; i++) {
        String v = String.valueOf(r.get(i));
        line.append(v);
        if (i < cols - 1) {
          line.append(" ".repeat(w[i] - v.length() + 3));
        }
      }
      OUT.println(line.toString().stripTrailing());
    }
  }

  private static String decode(String b64) {
    return new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
  }

  private static String trimSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  private static Path toolsDir() {
    String configured = System.getProperty("vaultmfa.tools.dir");
    if (configured != null) {
      return Paths.get(configured);
    }
    return Paths.get(System.getProperty("basedir", System.getProperty("user.dir")))
        .toAbsolutePath()
        .resolve(".tools");
  }

  /** Where the operator's log lines go, when logback writes them to a file. */
  private static Optional<String> logFile() {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx) {
      Iterator<Appender<ch.qos.logback.classic.spi.ILoggingEvent>> it =
          ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).iteratorForAppenders();
      while (it.hasNext()) {
        if (it.next() instanceof FileAppender<?> f && f.getFile() != null) {
          return Optional.of(Paths.get(f.getFile()).toAbsolutePath().toString());
        }
      }
    }
    return Optional.empty();
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Failure("interrupted", e);
    }
  }

  private static void quietly(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      System.err.println("  while stopping: " + e.getMessage());
    }
  }
}
