package io.vaultmfa.operator.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/** Serves /metrics (Prometheus text), /healthz and /readyz. */
public final class HealthServer implements AutoCloseable {

  private final HttpServer server;

  public HealthServer(int port, PrometheusMeterRegistry registry, BooleanSupplier ready)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress(port), 0);
    server.createContext("/metrics", ex -> send(ex, 200, registry.scrape()));
    server.createContext("/healthz", ex -> send(ex, 200, "ok\n"));
    server.createContext(
        "/readyz",
        ex ->
            send(
                ex,
                ready.getAsBoolean() ? 200 : 503,
                ready.getAsBoolean() ? "ready\n" : "not ready\n"));
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
