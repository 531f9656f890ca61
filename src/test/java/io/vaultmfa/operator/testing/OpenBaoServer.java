package io.vaultmfa.operator.testing;

import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * An OpenBao dev server ({@code bao server -dev}) on a free loopback port, with a random root token
 * and the TOTP secrets engine enabled at {@code totp/}. In-memory: nothing survives close.
 */
public final class OpenBaoServer implements AutoCloseable {

  public static final String TOTP_MOUNT = "totp";

  private static final Pattern MOUNT_PATH = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");
  private static final Duration STARTUP = Duration.ofSeconds(30);

  private final LocalProcess process;
  private final String address;
  private final String token;

  private OpenBaoServer(LocalProcess process, String address, String token) {
    this.process = process;
    this.address = address;
    this.token = token;
  }

  /** Starts the server, waits until it is unsealed and active, and enables {@code totp/}. */
  public static OpenBaoServer start() {
    int port = LocalProcess.freePort();
    String token = "root-" + UUID.randomUUID();
    LocalProcess process =
        LocalProcess.start(
            "bao",
            "openbao-" + port + ".log",
            "server",
            "-dev",
            "-dev-no-store-token",
            "-dev-root-token-id=" + token,
            "-dev-listen-address=127.0.0.1:" + port);
    OpenBaoServer server = new OpenBaoServer(process, "http://127.0.0.1:" + port, token);
    try {
      process.awaitReady(STARTUP, server::healthy);
      server.enableMount(TOTP_MOUNT, "totp");
      return server;
    } catch (RuntimeException e) {
      process.close();
      throw e;
    }
  }

  /** Base address, e.g. {@code http://127.0.0.1:41234}, as {@code VAULT_ADDR} expects it. */
  public String address() {
    return address;
  }

  /** The dev root token. */
  public String token() {
    return token;
  }

  /** Enables a secrets engine of {@code type} (e.g. {@code totp}, {@code kv}) at {@code path}. */
  public void enableMount(String path, String type) {
    if (!MOUNT_PATH.matcher(path).matches() || !MOUNT_PATH.matcher(type).matches()) {
      throw new IllegalArgumentException("unexpected mount path or type: " + path + ", " + type);
    }
    HttpRequest request =
        authorized("/v1/sys/mounts/" + path)
            .POST(BodyPublishers.ofString("{\"type\":\"" + type + "\"}"))
            .header("Content-Type", "application/json")
            .build();
    HttpResponse<String> response = LocalProcess.send(request, BodyHandlers.ofString());
    if (response.statusCode() / 100 != 2) {
      throw new IllegalStateException(
          "cannot enable " + type + " at " + path + ": HTTP " + response.statusCode());
    }
  }

  @Override
  public void close() {
    process.close();
  }

  private boolean healthy() {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(address + "/v1/sys/health"))
            .timeout(Duration.ofSeconds(2))
            .build();
    try {
      return LocalProcess.send(request, BodyHandlers.discarding()).statusCode() == 200;
    } catch (UncheckedIOException e) {
      return false;
    }
  }

  private HttpRequest.Builder authorized(String path) {
    return HttpRequest.newBuilder(URI.create(address + path))
        .timeout(Duration.ofSeconds(10))
        .header("X-Vault-Token", token);
  }
}
