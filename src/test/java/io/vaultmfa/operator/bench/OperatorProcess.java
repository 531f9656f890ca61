package io.vaultmfa.operator.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The operator as its own process, started as a Deployment starts it: {@code java
 * io.vaultmfa.operator.Main} with a configuration file and environment variables (leader election
 * on, as in {@code deploy/}), so that its resident memory is the operator's alone. JVM options as
 * in {@code deploy/deployment.yaml}: a 512 MiB memory limit ({@code -XX:MaxRAM}, which the JVM
 * otherwise reads from the container's cgroup), {@code -XX:MaxRAMPercentage=50}, and the collector
 * the JVM picks by itself in such a container (Serial, below 1792 MiB of memory), which it would
 * not pick on this larger machine.
 */
public final class OperatorProcess implements AutoCloseable {

  public static final List<String> JVM_OPTIONS =
      List.of("-XX:MaxRAM=512m", "-XX:MaxRAMPercentage=50", "-XX:+UseSerialGC");
  private static final Pattern HEAP_LINE =
      Pattern.compile("(?m)^\\s*(\\S.*?(?:heap|generation)) +total (\\d+)K, used (\\d+)K");

  final Process process;
  final long spawnedAt;
  final int metricsPort;
  final Path log;

  private OperatorProcess(Process process, long spawnedAt, int metricsPort, Path log) {
    this.process = process;
    this.spawnedAt = spawnedAt;
    this.metricsPort = metricsPort;
    this.log = log;
  }

  static OperatorProcess start(
      BenchStack stack, String namespace, Path dir, String name, List<String> moreJvmOptions) {
    try {
      Files.createDirectories(dir);
      Path token = dir.resolve("vault-token");
      Files.writeString(token, stack.bao.token());
      int port = freePort();
      Path config = dir.resolve(name + ".yaml");
      Files.writeString(
          config,
          String.join(
              "\n",
              "clusterId: " + InProcessOperator.CLUSTER_ID + "-process",
              "watchNamespaces: " + namespace,
              "vault:",
              "  address: " + stack.bao.address(),
              "  tokenFile: " + token.toAbsolutePath(),
              "aws:",
              "  iamEndpoint: " + stack.moto.endpoint(),
              "  stsEndpoint: " + stack.moto.endpoint(),
              "metrics:",
              "  port: " + port,
              // As deploy/ runs it: one active replica, elected through a Lease.
              "leaderElection:",
              "  enabled: true",
              "  leaseNamespace: " + namespace,
              ""));
      List<String> cmd = new ArrayList<>();
      cmd.add(ProcessHandle.current().info().command().orElse("java"));
      cmd.addAll(JVM_OPTIONS);
      cmd.addAll(moreJvmOptions);
      cmd.add("-cp");
      cmd.add(classpath());
      cmd.add("io.vaultmfa.operator.Main");
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      Path log = dir.resolve(name + ".log");
      pb.redirectOutput(log.toFile());
      Map<String, String> env = pb.environment();
      env.keySet()
          .removeIf(k -> k.startsWith("BAO_") || k.startsWith("VAULT") || k.startsWith("AWS_"));
      env.remove("JAVA_TOOL_OPTIONS");
      env.put("VAULTMFA_CONFIG", config.toAbsolutePath().toString());
      env.put("KUBECONFIG", stack.controlPlane.kubeconfig().toAbsolutePath().toString());
      env.put("AWS_ACCESS_KEY_ID", "testing");
      env.put("AWS_SECRET_ACCESS_KEY", "testing");
      env.put("AWS_REGION", "us-east-1");
      long t = System.nanoTime();
      return new OperatorProcess(pb.start(), t, port, log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the operator process", e);
    }
  }

  /** target/classes and the runtime dependencies the bench profile wrote down. */
  private static String classpath() throws IOException {
    String file = System.getProperty("bench.operator.classpath", "target/bench/operator.classpath");
    Path p = Path.of(file);
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException(
          p + " is missing: run the benchmark with scripts/bench.sh (mvn -Pbench writes it)");
    }
    return Path.of("target/classes").toAbsolutePath() + ":" + Files.readString(p).trim();
  }

  long pid() {
    return process.pid();
  }

  /** VmRSS and VmHWM (peak) from /proc, in KiB. */
  long[] rssKiB() {
    try {
      String status = Files.readString(Path.of("/proc/" + pid() + "/status"));
      return new long[] {field(status, "VmRSS"), field(status, "VmHWM")};
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static long field(String status, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + ":\\s+(\\d+) kB").matcher(status);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  /** Runs a full GC in the process, then reads heap used and committed (KiB) with jcmd. */
  long[] heapAfterGcKiB() {
    jcmd("GC.run");
    String info = jcmd("GC.heap_info");
    Matcher m = HEAP_LINE.matcher(info);
    long total = 0;
    long used = 0;
    while (m.find()) {
      total += Long.parseLong(m.group(2));
      used += Long.parseLong(m.group(3));
    }
    if (total == 0) {
      throw new IllegalStateException("cannot read jcmd GC.heap_info:\n" + info);
    }
    return new long[] {used, total};
  }

  String jcmd(String command) {
    String java = ProcessHandle.current().info().command().orElse("java");
    Path jcmd = Path.of(java).resolveSibling("jcmd");
    try {
      Process p =
          new ProcessBuilder(
                  Files.isExecutable(jcmd) ? jcmd.toString() : "jcmd",
                  String.valueOf(pid()),
                  command)
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("jcmd " + command + " failed: " + out);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The classes with the most live bytes (jcmd GC.class_histogram; it runs a full GC first). */
  List<String> histogram(int top) {
    List<String> lines = new ArrayList<>();
    for (String line : jcmd("GC.class_histogram").split("\n")) {
      Matcher m = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)").matcher(line);
      if (m.find() && lines.size() < top) {
        lines.add(
            String.format(
                java.util.Locale.ROOT,
                "%6.1f MiB %9s %s",
                Long.parseLong(m.group(2)) / 1048576.0,
                m.group(1),
                m.group(3)));
      }
    }
    return lines;
  }

  /** Committed memory by category (MiB), from Native Memory Tracking (when it is on). */
  Map<String, Long> nativeMemoryMiB() {
    String out = jcmd("VM.native_memory summary scale=KB");
    Map<String, Long> m = new java.util.LinkedHashMap<>();
    Matcher total = Pattern.compile("Total: reserved=\\d+KB, committed=(\\d+)KB").matcher(out);
    if (total.find()) {
      m.put("Total", Long.parseLong(total.group(1)) / 1024);
    }
    Matcher c =
        Pattern.compile("(?m)^-\\s+(.+?) \\(reserved=\\d+KB, committed=(\\d+)KB").matcher(out);
    while (c.find()) {
      m.put(c.group(1).trim(), Long.parseLong(c.group(2)) / 1024);
    }
    return m;
  }

  /** The sum of a counter over all its series in the operator's /metrics; -1 if unreachable. */
  double metric(String name) {
    try {
      HttpResponse<String> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      double sum = 0;
      for (String line : r.body().split("\n")) {
        if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
          sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      return sum;
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
