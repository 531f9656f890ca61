package io.vaultmfa.operator.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** A tool from {@code .tools/bin} running as a child process on loopback, with its own log. */
final class LocalProcess implements AutoCloseable {

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

  private final Process process;
  private final Path log;

  private LocalProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /** Starts {@code .tools/bin/<tool>} with the arguments; output goes to target/it-logs. */
  static LocalProcess start(String tool, String logName, String... args) {
    List<String> command = new ArrayList<>();
    command.add(binary(tool).toString());
    command.addAll(List.of(args));
    Path log = baseDir().resolve("target/it-logs").resolve(logName);
    try {
      Files.createDirectories(log.getParent());
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.redirectOutput(log.toFile());
      builder.environment().keySet().removeIf(k -> k.startsWith("BAO_") || k.startsWith("VAULT_"));
      return new LocalProcess(builder.start(), log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + tool + ", see " + log, e);
    }
  }

  /** Polls until {@code ready} is true; fails early when the process exits. */
  void awaitReady(Duration timeout, BooleanSupplier ready) {
    Instant deadline = Instant.now().plus(timeout);
    while (!ready.getAsBoolean()) {
      if (!process.isAlive()) {
        throw new IllegalStateException("process exited with " + process.exitValue() + see());
      }
      if (Instant.now().isAfter(deadline)) {
        close();
        throw new IllegalStateException("process not ready after " + timeout + see());
      }
      sleep(Duration.ofMillis(100));
    }
  }

  @Override
  public void close() {
    List<ProcessHandle> children = process.descendants().toList();
    process.destroy();
    children.forEach(ProcessHandle::destroy);
    try {
      if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    children.forEach(ProcessHandle::destroyForcibly);
  }

  /** Sends a request; a connection failure becomes an {@link UncheckedIOException}. */
  static <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
    try {
      return HTTP.send(request, handler);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot reach " + request.uri(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find a free loopback port", e);
    }
  }

  static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private String see() {
    return ", see " + log;
  }

  private static Path binary(String tool) {
    String configured = System.getProperty("vaultmfa.tools.dir");
    Path tools = configured != null ? Paths.get(configured) : baseDir().resolve(".tools");
    Path binary = tools.resolve("bin").resolve(tool);
    if (!Files.isExecutable(binary)) {
      throw new IllegalStateException(
          binary + " is missing: run scripts/install-tools.sh from the project root first");
    }
    return binary;
  }

  private static Path baseDir() {
    return Paths.get(System.getProperty("basedir", System.getProperty("user.dir")))
        .toAbsolutePath();
  }
}
