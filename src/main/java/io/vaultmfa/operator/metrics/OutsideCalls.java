package io.vaultmfa.operator.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vaultmfa.operator.outside.Failpoints;
import io.vaultmfa.operator.outside.OutsideCallException;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Times every call to an outside system and counts it by system, operation and outcome. The tags
 * are bounded: operation is an API name, never a user, key or uid.
 */
public final class OutsideCalls {

  public static final String METRIC = "vaultmfa.outside.calls";

  private final MeterRegistry registry;

  public OutsideCalls(MeterRegistry registry) {
    this.registry = registry;
  }

  public <T> T record(String system, String operation, Supplier<T> call) {
    long start = System.nanoTime();
    String outcome = "success";
    try {
      T result = call.get();
      Failpoints.after(system, operation);
      return result;
    } catch (OutsideCallException e) {
      outcome = e.outcome().name().toLowerCase(Locale.ROOT);
      throw e;
    } catch (RuntimeException e) {
      outcome = "error";
      throw e;
    } finally {
      Timer.builder(METRIC)
          .description("Calls to IAM, STS and Vault")
          .tag("system", system)
          .tag("operation", operation)
          .tag("outcome", outcome)
          .publishPercentileHistogram()
          .register(registry)
          .record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
    }
  }

  /** How many calls were made, all outcomes; for tests and the benchmark. */
  public long count(String system, String operation) {
    return registry.find(METRIC).tag("system", system).tag("operation", operation).timers().stream()
        .mapToLong(Timer::count)
        .sum();
  }
}
