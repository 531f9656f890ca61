package io.vaultmfa.operator.iam;

import io.vaultmfa.operator.outside.Outcome;
import io.vaultmfa.operator.outside.OutsideCallException;
import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/** Maps AWS SDK failures to the operator's small set of outcomes. */
final class AwsErrors {

  private static final Set<String> THROTTLING =
      Set.of("Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests");
  private static final Set<String> DENIED =
      Set.of(
          "AccessDenied",
          "AccessDeniedException",
          "UnauthorizedOperation",
          "InvalidClientTokenId",
          "SignatureDoesNotMatch",
          "ExpiredToken");
  private static final Set<String> CONFLICT =
      Set.of("EntityAlreadyExists", "ConcurrentModification", "DeleteConflict", "LimitExceeded");
  private static final Set<String> INVALID =
      Set.of(
          "InvalidInput",
          "ValidationError",
          "MalformedPolicyDocument",
          "InvalidAuthenticationCode");

  private AwsErrors() {}

  static OutsideCallException classify(String system, String what, SdkException e) {
    if (e instanceof AwsServiceException ase) {
      String code = ase.awsErrorDetails() == null ? "" : ase.awsErrorDetails().errorCode();
      String text = ase.awsErrorDetails() == null ? "" : ase.awsErrorDetails().errorMessage();
      return new OutsideCallException(system, what, outcomeOf(code, ase.statusCode()), code, text);
    }
    if (e instanceof SdkClientException) {
      return new OutsideCallException(
          system, what, Outcome.RETRYABLE, "ClientError", firstLine(e.getMessage()));
    }
    return new OutsideCallException(system, what, Outcome.RETRYABLE, "", firstLine(e.getMessage()));
  }

  static Outcome outcomeOf(String code, int status) {
    if (code == null) {
      code = "";
    }
    if (code.equals("NoSuchEntity")) {
      return Outcome.NOT_FOUND;
    }
    if (THROTTLING.contains(code)) {
      return Outcome.THROTTLED;
    }
    if (DENIED.contains(code)) {
      return Outcome.DENIED;
    }
    if (CONFLICT.contains(code)) {
      return Outcome.CONFLICT;
    }
    if (INVALID.contains(code)) {
      return Outcome.INVALID;
    }
    return switch (status) {
      case 429 -> Outcome.THROTTLED;
      case 401, 403 -> Outcome.DENIED;
      case 409 -> Outcome.CONFLICT;
      case 400 -> Outcome.INVALID;
      default -> Outcome.RETRYABLE;
    };
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
