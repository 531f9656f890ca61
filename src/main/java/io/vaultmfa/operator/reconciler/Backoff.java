package io.vaultmfa.operator.reconciler;

import io.javaoperatorsdk.operator.processing.retry.Retry;
import io.javaoperatorsdk.operator.processing.retry.RetryExecution;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * How long a failing binding waits before the next reconciliation: exponential backoff with equal
 * jitter, capped, and never giving up.
 *
 * <p>The n-th retry (counting from 0) waits a random time between half and all of {@code initial ×
 * 2^n}, at most {@code max}. The lower half is fixed so that a binding never retries in a tight
 * loop; the upper half is random so that bindings failing on the same outage do not all call again
 * at the same moment. java-operator-sdk's own {@code GenericRetry} has no jitter and, by default,
 * stops after five attempts.
 */
public final class Backoff implements Retry {

  private final long initialMillis;
  private final long maxMillis;
  private final RandomGenerator random;

  public Backoff(Duration initial, Duration max) {
    this(initial, max, null);
  }

  /** With a given source of randomness; {@code null} takes the calling thread's. */
  Backoff(Duration initial, Duration max, RandomGenerator random) {
    if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException(
          "backoff needs 0 < initial <= max, got " + initial + " and " + max);
    }
    this.initialMillis = initial.toMillis();
    this.maxMillis = max.toMillis();
    this.random = random;
  }

  /** The longest wait before retry {@code n} (0-based): {@code initial × 2^n}, capped. */
  public long ceilingMillis(int n) {
    double d = initialMillis * Math.pow(2, n);
    return d >= maxMillis ? maxMillis : (long) d;
  }

  @Override
  public RetryExecution initExecution() {
    return new Execution();
  }

  private final class Execution implements RetryExecution {

    private int attempts;

    @Override
    public Optional<Long> nextDelay() {
      long ceiling = ceilingMillis(attempts);
      attempts = attempts == Integer.MAX_VALUE ? attempts : attempts + 1;
      long half = ceiling / 2;
      RandomGenerator r = random != null ? random : ThreadLocalRandom.current();
      return Optional.of(ceiling - half + r.nextLong(half + 1));
    }

    @Override
    public int getAttemptCount() {
      return attempts;
    }

    @Override
    public boolean isLastAttempt() {
      return false;
    }
  }
}
