package io.vaultmfa.operator.iam;

import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;

/**
 * Keeps the operator's IAM client under {@code aws.iamRequestsPerSecond}: every HTTP attempt,
 * retries included, takes a permit first. Permits come one every {@code 1/rate} seconds, so that no
 * second, however it is cut, sees more than the rate (plus one); a request waits for its permit.
 * AWS throttles IAM per account, so an operator that enrols thousands of bindings at once should
 * not take the whole quota from everything else in the account.
 *
 * <p>The first attempt of a call waits before the SDK starts its call and attempt timers, so that
 * waiting for a permit never counts as a slow AWS; a retry waits inside its attempt.
 */
public final class IamRateLimit implements ExecutionInterceptor {

  /** How long a call may wait for a permit before it fails (and the reconcile is retried). */
  static final Duration MAX_WAIT = Duration.ofMinutes(5);

  private static final ExecutionAttribute<AtomicInteger> ATTEMPTS =
      new ExecutionAttribute<>("vaultmfa.iamAttempts");

  private final RateLimiter limiter;
  private final int perSecond;

  IamRateLimit(RateLimiter limiter, int perSecond) {
    this.limiter = limiter;
    this.perSecond = perSecond;
  }

  /** One permit every {@code 1/perSecond} seconds; empty for 0 (no limit). */
  public static Optional<IamRateLimit> perSecond(int perSecond) {
    if (perSecond <= 0) {
      return Optional.empty();
    }
    return Optional.of(
        new IamRateLimit(RateLimiter.of("iam", config(perSecond, MAX_WAIT)), perSecond));
  }

  static RateLimiterConfig config(int perSecond, Duration maxWait) {
    return RateLimiterConfig.custom()
        .limitForPeriod(1)
        .limitRefreshPeriod(Duration.ofNanos(1_000_000_000L / perSecond))
        .timeoutDuration(maxWait)
        .build();
  }

  @Override
  public void beforeExecution(
      Context.BeforeExecution context, ExecutionAttributes executionAttributes) {
    executionAttributes.putAttribute(ATTEMPTS, new AtomicInteger());
    acquire();
  }

  @Override
  public void beforeTransmission(
      Context.BeforeTransmission context, ExecutionAttributes executionAttributes) {
    AtomicInteger attempts = executionAttributes.getAttribute(ATTEMPTS);
    if (attempts != null && attempts.incrementAndGet() > 1) {
      acquire(); // a retry: the first attempt's permit was taken in beforeExecution
    }
  }

  private void acquire() {
    if (!limiter.acquirePermission()) {
      throw SdkClientException.create(
          "no IAM request permit within "
              + limiter.getRateLimiterConfig().getTimeoutDuration().toSeconds()
              + " s (aws.iamRequestsPerSecond is "
              + perSecond
              + ")");
    }
  }
}
