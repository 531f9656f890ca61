package io.vaultmfa.operator.testing;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.SdkHttpResponse;

/**
 * Makes IAM answer one operation for one user or device with an error, as real IAM answers when a
 * quota is full, a policy denies, or it throttles; or makes the endpoint unreachable for it. The
 * faulted request goes to a path of the emulator that changes nothing, and its answer is replaced
 * by IAM's error document, so the operator's SDK, error mapping and retries all run as against AWS.
 * Other calls pass untouched.
 */
public final class AwsFaults implements ExecutionInterceptor {

  /** An IAM error answer: HTTP status and the error code, e.g. 409 LimitExceeded. */
  public record Fault(int status, String code, String message) {}

  private static final ExecutionAttribute<Fault> FAULT = new ExecutionAttribute<>("vaultmfa.fault");
  private static final Fault UNREACHABLE = new Fault(0, "", "");

  private final Map<String, Fault> faults = new ConcurrentHashMap<>();

  /** From now on, {@code operation} for {@code subject} (user name or device name) answers this. */
  public void answer(String operation, String subject, int status, String code, String message) {
    faults.put(operation + " " + subject, new Fault(status, code, message));
  }

  /** From now on, {@code operation} for {@code subject} finds no server listening. */
  public void unreachable(String operation, String subject) {
    faults.put(operation + " " + subject, UNREACHABLE);
  }

  public void clear() {
    faults.clear();
  }

  @Override
  public SdkHttpRequest modifyHttpRequest(
      Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
    Fault f = faultFor(context.request(), attributes);
    if (f == null) {
      return context.httpRequest();
    }
    attributes.putAttribute(FAULT, f);
    if (f == UNREACHABLE) {
      return context.httpRequest().toBuilder().host("127.0.0.1").port(closedPort()).build();
    }
    return context.httpRequest().toBuilder().encodedPath("/fault-injected-by-test/").build();
  }

  @Override
  public SdkHttpResponse modifyHttpResponse(
      Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
    Fault f = attributes.getAttribute(FAULT);
    if (f == null || f == UNREACHABLE) {
      return context.httpResponse();
    }
    return context.httpResponse().toBuilder().statusCode(f.status()).build();
  }

  @Override
  public Optional<InputStream> modifyHttpResponseContent(
      Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
    Fault f = attributes.getAttribute(FAULT);
    if (f == null || f == UNREACHABLE) {
      return context.responseBody();
    }
    String xml =
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>"
            + "<Type>Sender</Type><Code>"
            + f.code()
            + "</Code><Message>"
            + f.message()
            + "</Message></Error><RequestId>fault-injected</RequestId></ErrorResponse>";
    return Optional.of(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
  }

  private Fault faultFor(SdkRequest r, ExecutionAttributes attributes) {
    String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
    for (String field : new String[] {"UserName", "VirtualMFADeviceName", "RoleArn"}) {
      Optional<String> subject = r.getValueForField(field, String.class);
      if (subject.isPresent()) {
        Fault f = faults.get(operation + " " + subject.get());
        if (f != null) {
          return f;
        }
      }
    }
    return null;
  }

  private static int closedPort() {
    return LocalProcess.freePort();
  }
}
