package io.vaultmfa.operator.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * Plain HTTP calls to Vault (OpenBao) with a given token, for tests that configure Vault or check
 * what a token may do. Bodies are parsed, never printed: some carry key material.
 */
public final class VaultHttp {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** The HTTP status and the parsed body (a missing node when the body is empty). */
  public record Response(int status, JsonNode body) {
    public boolean ok() {
      return status / 100 == 2;
    }

    /** Vault's "errors" array, which names no secret, for assertion messages. */
    public String errors() {
      return body.path("errors").toString();
    }

    @Override
    public String toString() {
      return "HTTP " + status + " " + errors();
    }
  }

  private final String address;
  private final String token;

  public VaultHttp(String address, String token) {
    this.address = address;
    this.token = token;
  }

  /** The same Vault with another token. */
  public VaultHttp withToken(String other) {
    return new VaultHttp(address, other);
  }

  public Response get(String path) {
    return send("GET", path, null);
  }

  /** Vault's LIST (GET with {@code ?list=true}). */
  public Response list(String path) {
    return send("GET", path + "?list=true", null);
  }

  public Response post(String path, Map<String, ?> body) {
    return send("POST", path, body);
  }

  public Response put(String path, Map<String, ?> body) {
    return send("PUT", path, body);
  }

  public Response delete(String path) {
    return send("DELETE", path, null);
  }

  /** As {@link #post} or {@link #put}, but fails unless Vault answers 2xx. */
  public Response write(String path, Map<String, ?> body) {
    Response r = post(path, body);
    if (!r.ok()) {
      throw new IllegalStateException("Vault refused POST " + path + ": " + r);
    }
    return r;
  }

  private Response send(String method, String path, Map<String, ?> body) {
    try {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create(address + "/v1/" + path))
              .timeout(Duration.ofSeconds(15))
              .method(
                  method,
                  body == null
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
      if (token != null) {
        b.header("X-Vault-Token", token);
      }
      if (body != null) {
        b.header("Content-Type", "application/json");
      }
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      JsonNode parsed =
          r.body() == null || r.body().isBlank() ? JSON.missingNode() : JSON.readTree(r.body());
      return new Response(r.statusCode(), parsed);
    } catch (IOException e) {
      throw new IllegalStateException("cannot reach Vault for " + method + " " + path, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during " + method + " " + path, e);
    }
  }
}
