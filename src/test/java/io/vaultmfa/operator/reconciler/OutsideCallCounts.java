package io.vaultmfa.operator.reconciler;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vaultmfa.operator.metrics.OutsideCalls;
import java.util.Map;
import java.util.TreeMap;

/**
 * The operator's calls to IAM, STS and Vault, per {@code system/operation}, as its metric counts
 * them; two snapshots give the calls made in between.
 */
record OutsideCallCounts(Map<String, Long> counts) {

  static OutsideCallCounts of(MeterRegistry registry) {
    Map<String, Long> m = new TreeMap<>();
    for (Timer t : registry.find(OutsideCalls.METRIC).timers()) {
      String key = t.getId().getTag("system") + "/" + t.getId().getTag("operation");
      m.merge(key, t.count(), Long::sum);
    }
    return new OutsideCallCounts(m);
  }

  /** The calls made since {@code before}, leaving out operations not called. */
  OutsideCallCounts since(OutsideCallCounts before) {
    Map<String, Long> m = new TreeMap<>();
    counts.forEach(
        (k, v) -> {
          long d = v - before.counts.getOrDefault(k, 0L);
          if (d != 0) {
            m.put(k, d);
          }
        });
    return new OutsideCallCounts(m);
  }

  long get(String systemAndOperation) {
    return counts.getOrDefault(systemAndOperation, 0L);
  }

  long total() {
    return counts.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Calls that change something outside: everything but reads. */
  Map<String, Long> writes() {
    Map<String, Long> m = new TreeMap<>();
    counts.forEach(
        (k, v) -> {
          if (!isRead(k)) {
            m.put(k, v);
          }
        });
    return m;
  }

  long reads() {
    return counts.entrySet().stream()
        .filter(e -> isRead(e.getKey()))
        .mapToLong(Map.Entry::getValue)
        .sum();
  }

  static boolean isRead(String systemAndOperation) {
    String op = systemAndOperation.substring(systemAndOperation.indexOf('/') + 1);
    return op.startsWith("Get")
        || op.startsWith("List")
        || op.startsWith("Read")
        || op.equals("GetCallerIdentity");
  }

  @Override
  public String toString() {
    return counts.toString();
  }
}
