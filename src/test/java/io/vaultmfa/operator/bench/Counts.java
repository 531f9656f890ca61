package io.vaultmfa.operator.bench;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vaultmfa.operator.metrics.OutsideCalls;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Calls the operator made, as counted by its own {@link OutsideCalls} meters ({@code iam:GetUser},
 * {@code vault:ReadKey}, ...) and by {@link KubeWrites} at its Kubernetes client ({@code secrets},
 * {@code awsmfabindings/status}, ...).
 */
record Counts(Map<String, Long> outside, Map<String, Long> kube, Map<String, Double> seconds) {

  /** The six columns of the table. */
  static final String[] COLUMNS = {
    "IAM reads", "IAM writes", "STS", "Vault reads", "Vault writes", "K8s writes"
  };

  static Counts of(MeterRegistry meters, KubeWrites writes) {
    Map<String, Long> out = new TreeMap<>();
    Map<String, Double> secs = new TreeMap<>();
    for (Timer t : meters.find(OutsideCalls.METRIC).timers()) {
      String key = t.getId().getTag("system") + ":" + t.getId().getTag("operation");
      out.merge(key, t.count(), Long::sum);
      secs.merge(key, t.totalTime(java.util.concurrent.TimeUnit.NANOSECONDS) / 1e9, Double::sum);
    }
    return new Counts(out, writes.snapshot(), secs);
  }

  Counts minus(Counts before) {
    Map<String, Double> secs = new TreeMap<>();
    seconds.forEach((k, v) -> secs.put(k, v - before.seconds.getOrDefault(k, 0.0)));
    secs.values().removeIf(v -> v == 0);
    return new Counts(diff(outside, before.outside), diff(kube, before.kube), secs);
  }

  private static Map<String, Long> diff(Map<String, Long> a, Map<String, Long> b) {
    Map<String, Long> d = new TreeMap<>();
    a.forEach(
        (k, v) -> {
          long n = v - b.getOrDefault(k, 0L);
          if (n != 0) {
            d.put(k, n);
          }
        });
    return d;
  }

  /** Mean seconds per call of each operation, slowest first. */
  Map<String, Double> meanSeconds() {
    Map<String, Double> m = new LinkedHashMap<>();
    seconds.entrySet().stream()
        .sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
        .forEach(e -> m.put(e.getKey(), e.getValue() / outside.getOrDefault(e.getKey(), 1L)));
    return m;
  }

  long total() {
    return outside.values().stream().mapToLong(Long::longValue).sum()
        + kube.values().stream().mapToLong(Long::longValue).sum();
  }

  /** The six column values, in {@link #COLUMNS} order. */
  long[] columns() {
    long[] c = new long[6];
    outside.forEach(
        (k, v) -> {
          String system = k.substring(0, k.indexOf(':'));
          String op = k.substring(k.indexOf(':') + 1);
          switch (system) {
            case "iam" -> c[isRead(op) ? 0 : 1] += v;
            case "sts" -> c[2] += v;
            case "vault" -> c[isRead(op) ? 3 : 4] += v;
            default -> throw new IllegalStateException("unknown system " + system);
          }
        });
    c[5] = kube.values().stream().mapToLong(Long::longValue).sum();
    return c;
  }

  /** IAM's Get and List, Vault's Read; everything else changes something. */
  static boolean isRead(String operation) {
    return operation.startsWith("Get")
        || operation.startsWith("List")
        || operation.startsWith("Read");
  }

  Map<String, Object> json(int per) {
    Map<String, Object> m = new LinkedHashMap<>();
    long[] c = columns();
    Map<String, Object> perBinding = new LinkedHashMap<>();
    for (int i = 0; i < COLUMNS.length; i++) {
      perBinding.put(COLUMNS[i], per == 0 ? null : (double) c[i] / per);
    }
    m.put("perBinding", perBinding);
    m.put("bindings", per);
    m.put("outsideCallsByOperation", outside);
    m.put("kubernetesWritesByResource", kube);
    m.put("outsideCallSecondsByOperation", seconds);
    return m;
  }
}
