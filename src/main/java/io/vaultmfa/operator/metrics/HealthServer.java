package io.vaultmfa.operator.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Serves /metrics (Prometheus text), /healthz (the process answers) and /readyz (200 with a short
 * reason when ready, 503 with what is missing otherwise).
 */
public final class HealthServer implements AutoCloseable {

  /** Ready when empty; otherwise what is missing. The body of a ready answer says more. */
  public interface Readiness {
    Optional<String> missing();

    default String detail() {
      return "ready";
    }
  }

  private final HttpServer server;

  public HealthServer(int port, PrometheusMeterRegistry registry, BooleanSupplier ready)
      throws IOException {
    this(
        port,
        registry,
        () -> ready.getAsBoolean() ? Optional.empty() : Optional.of("event sources not healthy"),
        () -> {});
  }

  /**
   * @param beforeScrape brings gauges computed from caches up to date before each scrape
   */
  public HealthServer(
      int port, PrometheusMeterRegistry registry, Readiness readiness, Runnable beforeScrape)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress(port), 0);
    server.createContext(
        "/metrics",
        ex -> {
          beforeScrape.run();
          send(ex, 200, registry.scrape());
        });
    server.createContext("/healthz", ex -> send(ex, 200, "ok\n"));
    server.createContext(
        "/readyz",
        ex -> {
          Optional<String> missing = readiness.missing();
          if (missing.isPresent()) {
            send(ex, 503, "not ready: " + missing.get() + "\n");
          } else {
            send(ex, 200, readiness.detail() + "\n");
          }
        });
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void send(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "text/plain; charset=utf-8");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
