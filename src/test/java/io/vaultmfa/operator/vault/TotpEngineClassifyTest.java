package io.vaultmfa.operator.vault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vaultmfa.operator.outside.Outcome;
import io.vaultmfa.operator.outside.OutsideCallException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.vault.authentication.VaultLoginException;

/** How Vault's HTTP answers become outcomes (see {@link TotpEngine#classify}). */
class TotpEngineClassifyTest {

  static final String WHAT = "read Vault key totp/keys/team-a.ci-deployer";

  static OutsideCallException classify(int status, String errors) {
    return TotpEngine.classify(WHAT, HttpStatusCode.valueOf(status), errors);
  }

  @ParameterizedTest(name = "{0} [{1}] -> {2}")
  @CsvSource(
      delimiter = '|',
      nullValues = "",
      emptyValue = "",
      value = {
        // A missing key: 404 with an empty errors list.
        "404 | ''                                                    | NOT_FOUND",
        // No engine at the mount, or a key name the route does not take.
        "404 | unsupported path                                      | INVALID",
        "404 | no handler for route \"totp/keys/x\". route entry not found. | INVALID",
        "405 | unsupported operation                                 | INVALID",
        "400 | invalid key: illegal base32 data at input byte 16    | INVALID",
        "401 | ''                                                    | DENIED",
        "403 | permission denied                                     | DENIED",
        "429 | request rate limit exceeded                           | THROTTLED",
        "500 | internal error                                        | RETRYABLE",
        "502 | ''                                                    | RETRYABLE",
        "503 | Vault is sealed                                       | RETRYABLE"
      })
  void outcome(int status, String errors, Outcome expected) {
    assertThat(classify(status, errors == null ? "" : errors).outcome()).isEqualTo(expected);
  }

  /** Kubernetes auth login as Vault answers it, wrapped by spring-vault with the HTTP cause. */
  static OutsideCallException login(HttpStatus status, String body) {
    org.springframework.web.client.HttpStatusCodeException http =
        org.springframework.web.client.HttpClientErrorException.create(
            status,
            status.getReasonPhrase(),
            org.springframework.http.HttpHeaders.EMPTY,
            body.getBytes(java.nio.charset.StandardCharsets.UTF_8),
            java.nio.charset.StandardCharsets.UTF_8);
    if (status.is5xxServerError()) {
      http =
          org.springframework.web.client.HttpServerErrorException.create(
              status,
              status.getReasonPhrase(),
              org.springframework.http.HttpHeaders.EMPTY,
              body.getBytes(java.nio.charset.StandardCharsets.UTF_8),
              java.nio.charset.StandardCharsets.UTF_8);
    }
    return TotpEngine.translate(WHAT, s -> s, VaultLoginException.create("Kubernetes", http));
  }

  @Test
  void aLoginWithARoleVaultDoesNotKnowIsDeniedNotARejectedRequest() {
    // OpenBao 2 answers 400 {"errors":["invalid role name \"nope\""]} to a login with an unknown
    // role: the operator's Vault role is misconfigured (VaultDenied, retried, alerted on), not a
    // bad key request (VaultRejected, terminal, "enable the TOTP engine").
    assertThat(
            login(HttpStatus.BAD_REQUEST, "{\"errors\":[\"invalid role name \\\"nope\\\"\"]}")
                .outcome())
        .isEqualTo(Outcome.DENIED);
    assertThat(login(HttpStatus.FORBIDDEN, "{\"errors\":[\"permission denied\"]}").outcome())
        .isEqualTo(Outcome.DENIED);
  }

  @Test
  void aLoginWhileVaultIsSealedIsRetried() {
    assertThat(
            login(HttpStatus.SERVICE_UNAVAILABLE, "{\"errors\":[\"Vault is sealed\"]}").outcome())
        .isEqualTo(Outcome.RETRYABLE);
  }

  @Test
  void theCodeIsTheHttpStatus() {
    assertThat(classify(403, "permission denied").code()).isEqualTo("403");
  }

  @Test
  void theSystemIsVault() {
    assertThat(classify(503, "").system()).isEqualTo("vault");
  }

  @Test
  void theMessageSaysWhatCouldNotBeDone() {
    assertThat(classify(403, "permission denied").getMessage())
        .isEqualTo("cannot " + WHAT + ": 403: permission denied");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"400", "403", "404", "429", "503"})
  void theMessageStartsWithCannot(int status) {
    assertThat(classify(status, "x").getMessage()).startsWith("cannot ");
  }

  @Test
  void theMessageCarriesNoRequestId() {
    // classify builds the message from the errors list alone, never from headers or the body.
    assertThat(classify(503, "Vault is sealed").getMessage())
        .doesNotContainIgnoringCase("request")
        .doesNotContainIgnoringCase("X-Vault");
  }
}
