package io.vaultmfa.operator.testing;

import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;

/** moto in server mode ({@code moto_server}) on a free loopback port: an AWS API emulator. */
public final class MotoServer implements AutoCloseable {

  private static final Duration STARTUP = Duration.ofSeconds(60);

  private final LocalProcess process;
  private final URI endpoint;

  private MotoServer(LocalProcess process, URI endpoint) {
    this.process = process;
    this.endpoint = endpoint;
  }

  /** Starts the server and waits until it answers HTTP. */
  public static MotoServer start() {
    int port = LocalProcess.freePort();
    LocalProcess process =
        LocalProcess.start(
            "moto_server", "moto-" + port + ".log", "-H", "127.0.0.1", "-p", String.valueOf(port));
    MotoServer server = new MotoServer(process, URI.create("http://127.0.0.1:" + port));
    try {
      process.awaitReady(STARTUP, server::answers);
      return server;
    } catch (RuntimeException e) {
      process.close();
      throw e;
    }
  }

  /** The endpoint to give every AWS client, e.g. {@code http://127.0.0.1:41234}. */
  public URI endpoint() {
    return endpoint;
  }

  /** Forgets every resource in every emulated service. */
  public void reset() {
    HttpRequest request =
        HttpRequest.newBuilder(endpoint.resolve("/moto-api/reset"))
            .timeout(Duration.ofSeconds(10))
            .POST(BodyPublishers.noBody())
            .build();
    int status = LocalProcess.send(request, BodyHandlers.discarding()).statusCode();
    if (status != 200) {
      throw new IllegalStateException("moto reset answered HTTP " + status);
    }
  }

  @Override
  public void close() {
    process.close();
  }

  private boolean answers() {
    HttpRequest request =
        HttpRequest.newBuilder(endpoint.resolve("/moto-api/"))
            .timeout(Duration.ofSeconds(2))
            .build();
    try {
      LocalProcess.send(request, BodyHandlers.discarding());
      return true;
    } catch (UncheckedIOException e) {
      return false;
    }
  }
}
