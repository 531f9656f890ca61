package io.vaultmfa.operator.iam;

import static org.assertj.core.api.Assertions.assertThat;

import io.vaultmfa.operator.outside.Outcome;
import io.vaultmfa.operator.outside.OutsideCallException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * AWS error codes as the IAM API reference documents them, with the HTTP status the SDK's IAM model
 * gives each (e.g. InvalidAuthenticationCode is 403, LimitExceeded 409).
 */
class AwsErrorsTest {

  static final String REQUEST_ID = "3f9a1c2e-7b44-4d1a-9c0e-5b2f6d8e1a77";
  static final String WHAT = "enable MFA device arn:aws:iam::123456789012:mfa/svc-user";

  static AwsServiceException aws(String code, String message, int status) {
    return AwsServiceException.builder()
        .awsErrorDetails(
            AwsErrorDetails.builder()
                .errorCode(code)
                .errorMessage(message)
                .serviceName("Iam")
                .build())
        .statusCode(status)
        .requestId(REQUEST_ID)
        .message(
            message
                + " (Service: Iam, Status Code: "
                + status
                + ", Request ID: "
                + REQUEST_ID
                + ")")
        .build();
  }

  static OutsideCallException classify(String code, String message, int status) {
    return AwsErrors.classify("iam", WHAT, aws(code, message, status));
  }

  @ParameterizedTest(name = "{0} ({2}) -> {3}")
  @CsvSource(
      delimiter = '|',
      value = {
        "NoSuchEntity              | The user with name svc-user cannot be found.     | 404 | NOT_FOUND",
        "Throttling                | Rate exceeded                                   | 400 | THROTTLED",
        "AccessDenied              | User is not authorized to perform iam:CreateUser | 403 | DENIED",
        "EntityAlreadyExists       | User with name svc-user already exists.         | 409 | CONFLICT",
        "LimitExceeded             | Cannot exceed quota for VirtualMFADevicesPerAccount | 409 | CONFLICT",
        "DeleteConflict            | Cannot delete entity, must remove MFA device first. | 409 | CONFLICT",
        "ConcurrentModification    | Concurrent modification                          | 409 | CONFLICT",
        "InvalidAuthenticationCode | Authentication code for device is not valid.    | 403 | INVALID",
        "InvalidInput              | Invalid serial number                            | 400 | INVALID",
        "ServiceFailure            | Service failure                                  | 500 | RETRYABLE",
        "InternalFailure           | Internal failure                                 | 500 | RETRYABLE",
        "ServiceUnavailable        | Service unavailable                              | 503 | RETRYABLE"
      })
  void outcome(String code, String message, int status, Outcome expected) {
    assertThat(classify(code, message, status).outcome()).isEqualTo(expected);
  }

  @Test
  void theCodeIsTheAwsErrorCode() {
    assertThat(classify("NoSuchEntity", "gone", 404).code()).isEqualTo("NoSuchEntity");
  }

  @Test
  void theMessageIsCannotWhatCodeAndText() {
    assertThat(classify("AccessDenied", "not authorized", 403).getMessage())
        .isEqualTo("cannot " + WHAT + ": AccessDenied: not authorized");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "NoSuchEntity, 404",
    "Throttling, 400",
    "AccessDenied, 403",
    "LimitExceeded, 409",
    "ServiceFailure, 500"
  })
  void theMessageStartsWithCannotAndHasNoRequestId(String code, int status) {
    String m = classify(code, "text", status).getMessage();
    assertThat(m)
        .startsWith("cannot ")
        .doesNotContain(REQUEST_ID)
        .doesNotContainIgnoringCase("request id");
  }

  @Test
  void missingErrorDetailsFallBackOnTheStatus() {
    AwsServiceException e = AwsServiceException.builder().statusCode(403).build();
    OutsideCallException o = AwsErrors.classify("iam", WHAT, e);
    assertThat(o.outcome()).isEqualTo(Outcome.DENIED);
    assertThat(o.getMessage()).startsWith("cannot ");
  }

  @Test
  void aClientFailureIsRetryableAndKeepsOnlyTheFirstLine() {
    SdkClientException e =
        SdkClientException.create("Unable to execute HTTP request: Connection refused\nat line 2");
    OutsideCallException o = AwsErrors.classify("iam", WHAT, e);
    assertThat(o.outcome()).isEqualTo(Outcome.RETRYABLE);
    assertThat(o.getMessage()).startsWith("cannot ").doesNotContain("line 2");
  }
}
