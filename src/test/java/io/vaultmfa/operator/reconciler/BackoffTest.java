package io.vaultmfa.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.javaoperatorsdk.operator.processing.retry.RetryExecution;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class BackoffTest {

  private static final Duration TWO_S = Duration.ofSeconds(2);
  private static final Duration FIVE_MIN = Duration.ofMinutes(5);

  @Test
  void ceilingsDoubleFromTheInitialIntervalUpToTheCap() {
    Backoff b = new Backoff(TWO_S, FIVE_MIN);

    List<Long> ceilings = new ArrayList<>();
    for (int n = 0; n < 11; n++) {
      ceilings.add(b.ceilingMillis(n));
    }

    assertThat(ceilings)
        .containsExactly(
            2_000L, 4_000L, 8_000L, 16_000L, 32_000L, 64_000L, 128_000L, 256_000L, 300_000L,
            300_000L, 300_000L);
    assertThat(b.ceilingMillis(Integer.MAX_VALUE)).as("no overflow").isEqualTo(300_000L);
  }

  @Test
  void everyDelayLiesBetweenHalfAndAllOfItsCeiling() {
    Backoff b = new Backoff(TWO_S, FIVE_MIN);
    for (int run = 0; run < 500; run++) {
      RetryExecution e = b.initExecution();
      for (int n = 0; n < 20; n++) {
        long ceiling = b.ceilingMillis(n);
        assertThat(e.nextDelay())
            .as("delay before retry %d", n)
            .get()
            .satisfies(d -> assertThat(d).isBetween(ceiling / 2, ceiling));
      }
    }
  }

  @Test
  void theLowestAndHighestDrawsAreTheEndsOfTheInterval() {
    RetryExecution low = new Backoff(TWO_S, FIVE_MIN, draws(false)).initExecution();
    RetryExecution high = new Backoff(TWO_S, FIVE_MIN, draws(true)).initExecution();

    List<Long> lows = new ArrayList<>();
    List<Long> highs = new ArrayList<>();
    for (int n = 0; n < 10; n++) {
      lows.add(low.nextDelay().orElseThrow());
      highs.add(high.nextDelay().orElseThrow());
    }

    assertThat(lows)
        .containsExactly(
            1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 32_000L, 64_000L, 128_000L, 150_000L,
            150_000L);
    assertThat(highs)
        .containsExactly(
            2_000L, 4_000L, 8_000L, 16_000L, 32_000L, 64_000L, 128_000L, 256_000L, 300_000L,
            300_000L);
  }

  @Test
  void neverGivesUpAndNeverWaitsLongerThanTheCap() {
    RetryExecution e = new Backoff(TWO_S, FIVE_MIN).initExecution();

    for (int n = 0; n < 100_000; n++) {
      assertThat(e.isLastAttempt()).isFalse();
      long low = n < 8 ? 1_000L : 150_000L;
      assertThat(e.nextDelay()).get().satisfies(d -> assertThat(d).isBetween(low, 300_000L));
    }

    assertThat(e.getAttemptCount()).isEqualTo(100_000);
    assertThat(e.isLastAttempt()).isFalse();
  }

  @Test
  void aNewExecutionStartsAgainAtTheInitialInterval() {
    Backoff b = new Backoff(TWO_S, FIVE_MIN);
    RetryExecution first = b.initExecution();
    for (int n = 0; n < 12; n++) {
      first.nextDelay();
    }

    RetryExecution next = b.initExecution();

    assertThat(next.getAttemptCount()).isZero();
    assertThat(next.nextDelay()).get().satisfies(d -> assertThat(d).isBetween(1_000L, 2_000L));
  }

  @Test
  void bindingsFailingTogetherDoNotRetryInStep() {
    Backoff b = new Backoff(TWO_S, FIVE_MIN);
    Set<Long> fifthDelays = new HashSet<>();
    for (int binding = 0; binding < 20; binding++) {
      RetryExecution e = b.initExecution();
      for (int n = 0; n < 4; n++) {
        e.nextDelay();
      }
      fifthDelays.add(e.nextDelay().orElseThrow());
    }

    assertThat(fifthDelays)
        .as("distinct waits of 20 bindings before their fifth retry")
        .hasSizeGreaterThan(10);
  }

  @Test
  void refusesIntervalsThatCannotBackOff() {
    assertThatThrownBy(() -> new Backoff(Duration.ZERO, FIVE_MIN))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Backoff(FIVE_MIN, TWO_S))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** Always the lowest or always the highest value a bounded draw may give. */
  private static RandomGenerator draws(boolean highest) {
    return new RandomGenerator() {
      @Override
      public long nextLong() {
        throw new UnsupportedOperationException();
      }

      @Override
      public long nextLong(long bound) {
        return highest ? bound - 1 : 0;
      }
    };
  }
}
