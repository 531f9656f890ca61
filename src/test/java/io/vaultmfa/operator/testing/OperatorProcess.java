package io.vaultmfa.operator.testing;

import io.vaultmfa.operator.outside.Failpoints;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The operator as its own JVM, started the way a container starts it ({@code java -cp ...
 * io.vaultmfa.operator.Main}, configured by environment variables only), with its standard output
 * and error kept in {@code target/it-logs/<name>.log} and in memory for {@link #output()}. Used to
 * kill it with SIGKILL at a {@link Failpoints failpoint} and start it again.
 */
public final class OperatorProcess implements AutoCloseable {

  private static final Pattern OUTSIDE_CALLS =
      Pattern.compile(
          "^vaultmfa_outside_calls_seconds_count\\{(?<labels>[^}]*)\\}\\s+(?<n>[0-9.eE+]+)$",
          Pattern.MULTILINE);
  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");

  private final String name;
  private final Process process;
  private final Path log;
  private final int metricsPort;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Thread pump;

  private OperatorProcess(String name, Process process, Path log, int metricsPort) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.metricsPort = metricsPort;
    this.pump = new Thread(this::pumpOutput, "operator-output-" + name);
    pump.setDaemon(true);
    pump.start();
  }

  /**
   * Starts {@code io.vaultmfa.operator.Main} with the main classes and the dependencies of this
   * test run (not the test classes: the operator logs with its own {@code logback.xml}), in the
   * project directory, with a clean environment plus {@code env}. {@code VAULTMFA_METRICS_PORT} is
   * set to a free port.
   */
  public static OperatorProcess start(String name, Map<String, String> env) {
    int port = LocalProcess.freePort();
    Path base = baseDir();
    Path log = base.resolve("target/it-logs").resolve(name + ".log");
    List<String> command =
        List.of(
            Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
            // A short-lived JVM: the C1 compiler alone starts it sooner on a small machine.
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-Xmx256m",
            "-cp",
            classpath(),
            "io.vaultmfa.operator.Main");
    ProcessBuilder builder = new ProcessBuilder(command).directory(base.toFile());
    builder.redirectErrorStream(true);
    Map<String, String> e = builder.environment();
    e.keySet()
        .removeIf(
            k ->
                k.startsWith("VAULT")
                    || k.startsWith("BAO_")
                    || k.startsWith("AWS_")
                    || k.equals("KUBECONFIG")
                    || k.startsWith("JAVA_TOOL_OPTIONS"));
    e.putAll(env);
    e.put("VAULTMFA_METRICS_PORT", String.valueOf(port));
    try {
      Files.createDirectories(log.getParent());
      Files.deleteIfExists(log);
      return new OperatorProcess(name, builder.start(), log, port);
    } catch (IOException ex) {
      throw new UncheckedIOException("cannot start the operator process " + name, ex);
    }
  }

  /** Waits until the operator reaches the failpoint {@code point}; fails if it exits first. */
  public void awaitFailpoint(String point, Duration timeout) {
    String marker = Failpoints.MARKER + point;
    Instant deadline = Instant.now().plus(timeout);
    while (lines.stream().noneMatch(l -> l.equals(marker))) {
      if (!process.isAlive()) {
        throw new AssertionError(
            name + " exited with " + process.exitValue() + " before failpoint " + point + see());
      }
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError(name + " did not reach failpoint " + point + see());
      }
      LocalProcess.sleep(Duration.ofMillis(50));
    }
  }

  /** SIGKILL (what {@link Process#destroyForcibly()} sends on Linux); returns the exit code. */
  public int kill() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new AssertionError(name + " still runs 30 s after SIGKILL");
      }
      pump.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while killing " + name, e);
    }
    return process.exitValue();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Everything the process printed so far. */
  public String output() {
    return String.join("\n", lines);
  }

  public Path log() {
    return log;
  }

  /**
   * The operator's own {@code /metrics} (Prometheus text); waits for the server, which starts once
   * the operator has started.
   */
  public String metrics() {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
            .timeout(Duration.ofSeconds(10))
            .build();
    Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
    while (true) {
      try {
        return LocalProcess.send(request, BodyHandlers.ofString()).body();
      } catch (UncheckedIOException e) {
        if (!process.isAlive() || Instant.now().isAfter(deadline)) {
          throw new AssertionError(name + " serves no /metrics" + see(), e);
        }
        LocalProcess.sleep(Duration.ofMillis(100));
      }
    }
  }

  /**
   * The metrics once the operator is idle: every reconciliation it started has ended, at least
   * {@code minReconciliations} started, and its outside calls did not change over a moment.
   */
  public String metricsWhenIdle(int minReconciliations) {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
    String previous = null;
    while (true) {
      String now = metrics();
      double started = sum(now, "operator_sdk_reconciliations_started_total");
      double ended =
          sum(now, "operator_sdk_reconciliations_success_total")
              + sum(now, "operator_sdk_reconciliations_failed_total");
      boolean idle =
          started >= minReconciliations
              && started == ended
              && previous != null
              && outsideCalls(previous).equals(outsideCalls(now));
      if (idle) {
        return now;
      }
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError(
            name
                + " not idle after 60 s ("
                + started
                + " reconciliations started, "
                + ended
                + " ended)"
                + see());
      }
      previous = started == ended ? now : null;
      LocalProcess.sleep(Duration.ofMillis(500));
    }
  }

  /** The sum of every series of a metric in a Prometheus text; 0 when it has none. */
  public static double sum(String metrics, String metric) {
    Matcher m =
        Pattern.compile(
                "^" + Pattern.quote(metric) + "(\\{[^}]*\\})?\\s+([0-9.eE+-]+)$", Pattern.MULTILINE)
            .matcher(metrics);
    double total = 0;
    while (m.find()) {
      total += Double.parseDouble(m.group(2));
    }
    return total;
  }

  /**
   * The count of calls to IAM, STS and Vault in a {@link #metrics()} text, by {@code
   * system.operation} (all outcomes).
   */
  public static Map<String, Long> outsideCalls(String metrics) {
    Map<String, Long> counts = new TreeMap<>();
    Matcher m = OUTSIDE_CALLS.matcher(metrics);
    while (m.find()) {
      Map<String, String> labels = new TreeMap<>();
      Matcher l = LABEL.matcher(m.group("labels"));
      while (l.find()) {
        labels.put(l.group(1), l.group(2));
      }
      counts.merge(
          labels.get("system") + "." + labels.get("operation"),
          (long) Double.parseDouble(m.group("n")),
          Long::sum);
    }
    return counts;
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }

  private void pumpOutput() {
    try (BufferedReader in =
            new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Writer out = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
      String line;
      while ((line = in.readLine()) != null) {
        lines.add(line);
        out.write(line);
        out.write('\n');
        out.flush();
      }
    } catch (IOException e) {
      lines.add("<output of " + name + " not readable: " + e + ">");
    }
  }

  private String see() {
    return ", see " + log;
  }

  /** This run's classpath without the test classes. */
  private static String classpath() {
    List<String> entries =
        new ArrayList<>(
            Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator)));
    entries.removeIf(e -> Paths.get(e).endsWith("test-classes"));
    if (entries.stream().noneMatch(e -> e.contains("operator-framework"))) {
      throw new IllegalStateException("java.class.path does not list the dependencies: " + entries);
    }
    return entries.stream().collect(Collectors.joining(File.pathSeparator));
  }

  private static Path baseDir() {
    return Paths.get(System.getProperty("basedir", System.getProperty("user.dir")))
        .toAbsolutePath();
  }
}
