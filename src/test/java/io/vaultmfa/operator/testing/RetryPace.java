package io.vaultmfa.operator.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.vaultmfa.operator.reconciler.Backoff;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What the operator's retry of a failing binding must look like from outside: attempts spaced at
 * least as far apart as {@link Backoff} allows, so never a tight loop. Only lower bounds on the
 * waits are checked: a slow machine makes them longer, never shorter.
 */
public final class RetryPace {

  /** The proxy's clock has millisecond resolution; allow that much on each gap. */
  private static final long SLACK_MILLIS = 5;

  /** Attempts that may follow at once, for a new event rather than a retry. */
  private static final int EVENTS = 1;

  private final Backoff backoff;

  public RetryPace(Duration initial, Duration max) {
    this.backoff = new Backoff(initial, max);
  }

  /**
   * Each gap between consecutive attempts is at least half the backoff's ceiling before it. One
   * attempt may follow at once: when a failed attempt wrote something the operator watches (the
   * Secret), java-operator-sdk reconciles again at once for that event, without counting a retry.
   */
  public void assertBackedOff(String what, List<Instant> attempts) {
    int retry = 0;
    int atOnce = 0;
    for (int n = 1; n < attempts.size(); n++) {
      long gap = Duration.between(attempts.get(n - 1), attempts.get(n)).toMillis();
      long least = backoff.ceilingMillis(retry) / 2 - SLACK_MILLIS;
      if (gap < least && atOnce < EVENTS) {
        atOnce++;
        continue;
      }
      assertThat(gap)
          .as(
              "%s: wait before retry %d of %s (ms), at least half of %d ms",
              what, retry, attempts, backoff.ceilingMillis(retry))
          .isGreaterThanOrEqualTo(least);
      retry++;
    }
  }

  /**
   * The first call of each attempt: a call that follows the one before within 50 ms is the HTTP
   * client trying the same request again on a broken connection, not a new attempt.
   */
  public static List<Instant> attempts(List<Instant> calls) {
    List<Instant> firsts = new java.util.ArrayList<>();
    for (int i = 0; i < calls.size(); i++) {
      if (i == 0 || Duration.between(calls.get(i - 1), calls.get(i)).toMillis() >= 50) {
        firsts.add(calls.get(i));
      }
    }
    return firsts;
  }

  /** The most attempts (the first one included) the backoff allows within {@code window}. */
  public int mostAttemptsWithin(Duration window) {
    long elapsed = 0;
    for (int retries = 0; ; retries++) {
      elapsed += backoff.ceilingMillis(retries) / 2 - SLACK_MILLIS;
      if (elapsed > window.toMillis()) {
        return 1 + EVENTS + retries;
      }
    }
  }
}
