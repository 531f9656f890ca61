package io.vaultmfa.operator.testing;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver (RBAC on) and
 * kube-controller-manager (garbage collector, namespace and serviceaccount controllers), started by
 * {@code scripts/controlplane.sh start} into a fresh directory under {@code target/controlplane/}.
 * The binaries come from {@code scripts/controlplane.sh build}, which builds them once per machine
 * into {@code .tools/k8s/<version>/}.
 *
 * <p>{@link #client()} and {@link #kubectl} act as a cluster admin (a client certificate in {@code
 * system:masters}); {@link #close()} stops every process.
 */
public final class KubeControlPlane implements AutoCloseable {

  private static final Duration STARTUP = Duration.ofSeconds(120);
  private static final Duration READY = Duration.ofSeconds(60);
  private static final Duration STOP = Duration.ofSeconds(60);
  private static final Duration KUBECTL = Duration.ofSeconds(120);
  private static final Pattern KUBERNETES_REQUIRE =
      Pattern.compile("(?m)^require\\s+k8s\\.io/kubernetes\\s+(v\\S+)\\s*$");

  /** What a command printed (stdout and stderr together) and how it exited. */
  public record Result(int exitCode, String output) {
    public boolean ok() {
      return exitCode == 0;
    }

    @Override
    public String toString() {
      return "exit " + exitCode + ":\n" + output;
    }
  }

  private final Path baseDir;
  private final Path dir;
  private final String version;
  private final Thread shutdownHook;
  private KubernetesClient client;
  private boolean closed;

  private KubeControlPlane(Path baseDir, Path dir, String version) {
    this.baseDir = baseDir;
    this.dir = dir;
    this.version = version;
    this.shutdownHook = new Thread(this::stopQuietly, "kube-control-plane-stop");
  }

  /** Starts etcd, kube-apiserver and kube-controller-manager and waits for {@code /readyz}. */
  public static KubeControlPlane start() {
    return start(true);
  }

  /**
   * As {@link #start()}; without the controller-manager when {@code controllerManager} is false.
   */
  public static KubeControlPlane start(boolean controllerManager) {
    Path base = baseDir();
    String version = kubernetesVersion(base);
    Path binaries = base.resolve(".tools/k8s").resolve(version);
    for (String binary : List.of("kube-apiserver", "kube-controller-manager")) {
      if (!Files.isExecutable(binaries.resolve(binary))) {
        throw new IllegalStateException(
            binaries.resolve(binary)
                + " is missing: run scripts/controlplane.sh build from the project root first"
                + " (builds Kubernetes "
                + version
                + " once per machine; takes several minutes)");
      }
    }
    Path dir = base.resolve("target/controlplane").resolve("cp-" + UUID.randomUUID());
    KubeControlPlane plane = new KubeControlPlane(base, dir, version);
    try {
      Files.createDirectories(dir);
      Runtime.getRuntime().addShutdownHook(plane.shutdownHook);
      Result started =
          plane.run(
              Map.of("CONTROLLER_MANAGER", controllerManager ? "1" : "0"),
              null,
              STARTUP,
              List.of("bash", script(base).toString(), "start", dir.toString()));
      if (!started.ok()) {
        throw new IllegalStateException(
            "scripts/controlplane.sh start " + dir + " failed, " + started + "\nlogs in " + dir);
      }
      plane.awaitReady();
      return plane;
    } catch (IOException e) {
      plane.close();
      throw new UncheckedIOException("cannot start the control plane in " + dir, e);
    } catch (RuntimeException e) {
      plane.close();
      throw e;
    }
  }

  /** The Kubernetes release of the binaries, e.g. {@code v1.32.9}. */
  public String version() {
    return version;
  }

  /** The directory with certificates, logs ({@code *.log}) and the kubeconfig. */
  public Path dir() {
    return dir;
  }

  /** A kubeconfig for a cluster admin, for kubectl and fabric8. */
  public Path kubeconfig() {
    return dir.resolve("kubeconfig");
  }

  /** A fabric8 client acting as a cluster admin, built from {@link #kubeconfig()}. */
  public synchronized KubernetesClient client() {
    if (client == null) {
      client = new KubernetesClientBuilder().withConfig(config()).build();
    }
    return client;
  }

  /** A fresh fabric8 configuration from {@link #kubeconfig()}, to adjust before building. */
  public Config config() {
    return Config.fromKubeconfig(kubeconfig().toFile());
  }

  /**
   * Writes {@code <dir>/<name>.kubeconfig}: same server and CA as {@link #kubeconfig()}, but
   * authenticating with {@code token} only (e.g. from {@code kubectl create token <sa>}), so that
   * kubectl or fabric8 act as that ServiceAccount and RBAC applies.
   */
  public Path kubeconfigForToken(String name, String token) {
    if (!name.matches("[a-z0-9][a-z0-9-]*") || !token.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException("unexpected kubeconfig name or token format: " + name);
    }
    io.fabric8.kubernetes.api.model.Config admin =
        io.fabric8.kubernetes.client.utils.Serialization.unmarshal(
            readString(kubeconfig()), io.fabric8.kubernetes.api.model.Config.class);
    var cluster = admin.getClusters().get(0).getCluster();
    String yaml =
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: vaultmfa-e2e",
            "  cluster:",
            "    server: " + cluster.getServer(),
            "    certificate-authority-data: " + cluster.getCertificateAuthorityData(),
            "users:",
            "- name: " + name,
            "  user:",
            "    token: " + token,
            "contexts:",
            "- name: " + name,
            "  context:",
            "    cluster: vaultmfa-e2e",
            "    user: " + name,
            "    namespace: default",
            "current-context: " + name,
            "");
    Path file = dir.resolve(name + ".kubeconfig");
    try {
      Files.writeString(file, yaml);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
    return file;
  }

  /** Runs {@code kubectl} with {@link #kubeconfig()} as {@code KUBECONFIG}. */
  public Result kubectl(String... args) {
    return kubectlWithInput(null, args);
  }

  /** Runs {@code kubectl} with {@code stdin} as its input, e.g. {@code apply -f -}. */
  public Result kubectlWithInput(String stdin, String... args) {
    List<String> command = new ArrayList<>();
    command.add(System.getProperty("vaultmfa.kubectl", "kubectl"));
    command.addAll(List.of(args));
    try {
      return run(Map.of("KUBECONFIG", kubeconfig().toString()), stdin, KUBECTL, command);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + command, e);
    }
  }

  /** Stops the processes; the directory with the logs stays for a look afterwards. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (client != null) {
      client.close();
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException | IllegalArgumentException e) {
      // the JVM is already shutting down, or start failed before the hook was added
    }
    stopQuietly();
  }

  private void stopQuietly() {
    try {
      Result stopped =
          run(
              Map.of(),
              null,
              STOP,
              List.of("bash", script(baseDir).toString(), "stop", dir.toString()));
      if (!stopped.ok()) {
        System.err.println("scripts/controlplane.sh stop " + dir + " failed, " + stopped);
      }
    } catch (IOException | RuntimeException e) {
      System.err.println("cannot stop the control plane in " + dir + ": " + e);
    }
  }

  private void awaitReady() {
    Instant deadline = Instant.now().plus(READY);
    Result last = null;
    while (Instant.now().isBefore(deadline)) {
      last = kubectl("get", "--raw", "/readyz");
      if (last.ok() && last.output().trim().equals("ok")) {
        return;
      }
      LocalProcess.sleep(Duration.ofMillis(200));
    }
    throw new IllegalStateException(
        "kube-apiserver not ready after " + READY + ", last /readyz: " + last + "\nlogs in " + dir);
  }

  private Result run(Map<String, String> env, String stdin, Duration timeout, List<String> command)
      throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command).directory(baseDir.toFile());
    builder.redirectErrorStream(true);
    builder.environment().putAll(env);
    Process process = builder.start();
    CompletableFuture<byte[]> output = readAll(process.getInputStream());
    try (OutputStream in = process.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    }
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor();
        throw new IllegalStateException(
            command + " did not finish within " + timeout + ":\n" + text(output));
      }
      return new Result(process.exitValue(), text(output));
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + command, e);
    }
  }

  private static CompletableFuture<byte[]> readAll(InputStream stream) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (InputStream in = stream) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
          } catch (IOException e) {
            return ("<cannot read output: " + e + ">").getBytes(StandardCharsets.UTF_8);
          }
        });
  }

  private static String text(CompletableFuture<byte[]> output) {
    try {
      return new String(output.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8);
    } catch (Exception e) {
      return "<output not available: " + e + ">";
    }
  }

  private static String readString(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private static String kubernetesVersion(Path base) {
    Path goMod = base.resolve("deploy/local/controlplane/go.mod");
    try {
      Matcher m = KUBERNETES_REQUIRE.matcher(Files.readString(goMod));
      if (!m.find()) {
        throw new IllegalStateException("no 'require k8s.io/kubernetes' line in " + goMod);
      }
      return m.group(1);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + goMod, e);
    }
  }

  private static Path script(Path base) {
    return base.resolve("scripts/controlplane.sh");
  }

  private static Path baseDir() {
    return Paths.get(System.getProperty("basedir", System.getProperty("user.dir")))
        .toAbsolutePath();
  }
}
