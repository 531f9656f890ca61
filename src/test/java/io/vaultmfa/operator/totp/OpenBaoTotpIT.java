package io.vaultmfa.operator.totp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vaultmfa.operator.testing.OpenBaoServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The TOTP engine of a real OpenBao agrees with {@link Totp} and behaves as cases K02-K06 say. */
class OpenBaoTotpIT {

  private static final String K03_SEED = TotpTest.K03_SEED;
  private static final String K02_SEED = TotpTest.K02_SEED;
  private static final String ISSUER = "Amazon Web Services";
  private static final String ACCOUNT = "svc-user@123456789012";

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final ObjectMapper JSON = new ObjectMapper();

  private static OpenBaoServer bao;

  @BeforeAll
  static void startOpenBao() {
    bao = OpenBaoServer.start();
  }

  @AfterAll
  static void stopOpenBao() {
    if (bao != null) {
      bao.close();
    }
  }

  @Test
  void vaultCodeEqualsOurCodeForTheCurrentWindow() {
    assertThat(writeKey("k01-match", keyParameters(K03_SEED)).statusCode()).isEqualTo(204);

    long before = Instant.now().getEpochSecond();
    String vaultCode = readCode("k01-match");
    long after = Instant.now().getEpochSecond();

    // Vault uses its own clock: a read that straddles a window edge may give either code.
    assertThat(vaultCode).isIn(Totp.code(K03_SEED, before), Totp.code(K03_SEED, after));
  }

  @Test
  void k02EquivalentSeedsGiveTheSameCodes() {
    List<String> seeds = List.of(K02_SEED, K02_SEED.toLowerCase(), K02_SEED + "===");
    for (int i = 0; i < seeds.size(); i++) {
      assertThat(writeKey("k02-" + i, keyParameters(seeds.get(i))).statusCode()).isEqualTo(204);
    }

    Timed<List<String>> codes =
        inOneWindow(() -> List.of(readCode("k02-0"), readCode("k02-1"), readCode("k02-2")));

    assertThat(codes.value()).containsOnly(Totp.code(K02_SEED, codes.unixSeconds()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"JBSW Y3DP EHPK 3PXP", "JBSWY3DPEHPK3PXP\n"})
  void k02WhitespaceIsRefusedUnlessNormalised(String seed) {
    assertThat(writeKey("k02-raw", keyParameters(seed)).statusCode()).isEqualTo(400);
    assertThat(writeKey("k02-raw", keyParameters(Seeds.normalize(seed))).statusCode())
        .isEqualTo(204);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"svc-user", "svc_user", "svc-user@example.com", "default.svc-user.mfa", "a"})
  void k05AcceptedKeyNames(String name) {
    assertThat(writeKey(name, keyParameters(K03_SEED)).statusCode()).isEqualTo(204);
    assertThat(call("GET", "/v1/totp/keys/" + name, null).statusCode()).isEqualTo(200);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"-svc", "svc-", "team/svc", "team:svc", "svc user", "svc+ops", "svc-user@"})
  void k05RefusedKeyNames(String name) {
    HttpResponse<String> response = writeKey(name, keyParameters(K03_SEED));

    // No route matches, so OpenBao 2.7 answers 404 "unsupported path" (Vault may say 405).
    assertThat(response.statusCode()).as("HTTP status for %s", name).isEqualTo(404);
    assertThat(response.body()).contains("unsupported path");
  }

  @Test
  void k06LowercaseAlgorithmIsRefused() {
    Map<String, Object> parameters = keyParameters(K03_SEED);
    parameters.put("algorithm", "sha1");
    assertThat(writeKey("k06-bad", parameters).statusCode()).isEqualTo(400);
  }

  @Test
  void k06SevenDigitsAreRefused() {
    Map<String, Object> parameters = keyParameters(K03_SEED);
    parameters.put("digits", 7);
    assertThat(writeKey("k06-bad", parameters).statusCode()).isEqualTo(400);
  }

  @Test
  void k06ZeroPeriodIsRefused() {
    Map<String, Object> parameters = keyParameters(K03_SEED);
    parameters.put("period", 0);
    assertThat(writeKey("k06-bad", parameters).statusCode()).isEqualTo(400);
  }

  @Test
  void k06KeyReadsBackExactly() {
    assertThat(writeKey("k06-exact", keyParameters(K03_SEED)).statusCode()).isEqualTo(204);

    JsonNode data = json(call("GET", "/v1/totp/keys/k06-exact", null)).path("data");

    assertThat(data.path("algorithm").asText()).isEqualTo("SHA1");
    assertThat(data.path("digits").asInt()).isEqualTo(6);
    assertThat(data.path("period").asInt()).isEqualTo(30);
    assertThat(data.path("issuer").asText()).isEqualTo(ISSUER);
    assertThat(data.path("account_name").asText()).isEqualTo(ACCOUNT);
    assertThat(data.has("key")).as("the seed is never read back").isFalse();
  }

  private static Map<String, Object> keyParameters(String seed) {
    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("key", seed);
    parameters.put("issuer", ISSUER);
    parameters.put("account_name", ACCOUNT);
    parameters.put("algorithm", "SHA1");
    parameters.put("digits", 6);
    parameters.put("period", 30);
    return parameters;
  }

  private static HttpResponse<String> writeKey(String name, Map<String, Object> parameters) {
    return call("POST", "/v1/totp/keys/" + name.replace(" ", "%20"), parameters);
  }

  private static String readCode(String name) {
    HttpResponse<String> response = call("GET", "/v1/totp/code/" + name, null);
    assertThat(response.statusCode()).as("read code of %s", name).isEqualTo(200);
    return json(response).path("data").path("code").asText();
  }

  /** Runs the reads again when they straddled a window edge, so that all saw one window. */
  private static <T> Timed<T> inOneWindow(Supplier<T> reads) {
    for (int attempt = 0; ; attempt++) {
      long before = Instant.now().getEpochSecond();
      T value = reads.get();
      long after = Instant.now().getEpochSecond();
      if (before / 30 == after / 30 || attempt == 2) {
        return new Timed<>(before, value);
      }
    }
  }

  private record Timed<T>(long unixSeconds, T value) {}

  private static HttpResponse<String> call(String method, String path, Object body) {
    try {
      HttpRequest.BodyPublisher publisher =
          body == null
              ? BodyPublishers.noBody()
              : BodyPublishers.ofString(JSON.writeValueAsString(body));
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(bao.address() + path))
              .header("X-Vault-Token", bao.token())
              .header("Content-Type", "application/json")
              .method(method, publisher)
              .build();
      return HTTP.send(request, BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static JsonNode json(HttpResponse<String> response) {
    try {
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
