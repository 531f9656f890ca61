package io.vaultmfa.operator.bench;

import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * Counts the HTTP requests (attempts, retries included) the operator's AWS clients send, and when
 * each IAM request left, behind the operator's own rate limiter.
 */
final class AwsAttempts implements ExecutionInterceptor {

  final LongAdder sts = new LongAdder();
  private final ConcurrentLinkedQueue<Long> iam = new ConcurrentLinkedQueue<>();

  @Override
  public void beforeTransmission(
      Context.BeforeTransmission context, ExecutionAttributes executionAttributes) {
    String service = executionAttributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME);
    if (service != null && service.toLowerCase(Locale.ROOT).equals("iam")) {
      iam.add(System.nanoTime());
    } else {
      sts.increment();
    }
  }

  long iamRequests() {
    return iam.size();
  }

  /** IAM requests sent before {@code nanoTime}. */
  long iamRequestsBefore(long nanoTime) {
    return iam.stream().filter(t -> t <= nanoTime).count();
  }

  /** IAM requests per second between the first and the last one. */
  double iamRate() {
    long[] t = iam.stream().mapToLong(Long::longValue).sorted().toArray();
    if (t.length < 2) {
      return Double.NaN;
    }
    return (t.length - 1) / ((t[t.length - 1] - t[0]) / 1e9);
  }

  /** The most IAM requests within any one second (a sliding window). */
  int iamMostInOneSecond() {
    long[] t = iam.stream().mapToLong(Long::longValue).sorted().toArray();
    int most = 0;
    int start = 0;
    for (int end = 0; end < t.length; end++) {
      while (t[end] - t[start] >= 1_000_000_000L) {
        start++;
      }
      most = Math.max(most, end - start + 1);
    }
    return most;
  }
}
