package io.vaultmfa.operator.bench;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.vaultmfa.operator.api.AwsMfaBinding;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Watches the bindings of one namespace as a user would (an informer of the benchmark's own client)
 * and notes, per binding, when the operator first touched it, when it was first seen Ready=True,
 * and when it was gone.
 */
final class Tracker implements ResourceEventHandler<AwsMfaBinding>, AutoCloseable {

  final Map<String, Long> touched = new ConcurrentHashMap<>();
  final Map<String, Long> ready = new ConcurrentHashMap<>();
  final Map<String, Long> gone = new ConcurrentHashMap<>();
  private final Map<String, AwsMfaBinding> last = new ConcurrentHashMap<>();
  private final SharedIndexInformer<AwsMfaBinding> informer;

  Tracker(KubernetesClient client, String namespace) {
    informer = client.resources(AwsMfaBinding.class).inNamespace(namespace).inform(this, 0);
  }

  @Override
  public void onAdd(AwsMfaBinding b) {
    see(b);
  }

  @Override
  public void onUpdate(AwsMfaBinding old, AwsMfaBinding b) {
    see(b);
  }

  @Override
  public void onDelete(AwsMfaBinding b, boolean deletedFinalStateUnknown) {
    gone.putIfAbsent(b.getMetadata().getName(), System.nanoTime());
  }

  private void see(AwsMfaBinding b) {
    long now = System.nanoTime();
    String name = b.getMetadata().getName();
    last.put(name, b);
    if (!b.getMetadata().getFinalizers().isEmpty()
        || (b.getStatus() != null
            && b.getStatus().getConditions() != null
            && !b.getStatus().getConditions().isEmpty())) {
      touched.putIfAbsent(name, now);
    }
    if (readyCondition(b).filter(c -> "True".equals(c.getStatus())).isPresent()) {
      ready.putIfAbsent(name, now);
    }
  }

  static Optional<Condition> readyCondition(AwsMfaBinding b) {
    if (b.getStatus() == null || b.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return b.getStatus().getConditions().stream()
        .filter(c -> "Ready".equals(c.getType()))
        .findFirst();
  }

  /** No binding got further for this long: the rest are stuck (their reasons get reported). */
  static final Duration STALLED = Duration.ofSeconds(180);

  /**
   * Waits until every name is in {@code seen}; false when the time ran out, or when none was added
   * for {@link #STALLED}.
   */
  static boolean await(Map<String, Long> seen, Collection<String> names, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    int last = -1;
    long progressed = System.nanoTime();
    while (true) {
      int have = (int) names.stream().filter(seen::containsKey).count();
      if (have == names.size()) {
        return true;
      }
      long now = System.nanoTime();
      if (have != last) {
        last = have;
        progressed = now;
      }
      if (now > deadline || now - progressed > STALLED.toNanos()) {
        return false;
      }
      Benchmark.sleep(Duration.ofMillis(200));
    }
  }

  /** For bindings that are not Ready: how many have each Ready reason. */
  Map<String, Integer> notReadyReasons(Collection<String> names) {
    Map<String, Integer> m = new TreeMap<>();
    for (String n : names) {
      if (!ready.containsKey(n)) {
        String reason =
            Optional.ofNullable(last.get(n))
                .flatMap(Tracker::readyCondition)
                .map(c -> c.getReason())
                .orElse("(no status)");
        m.merge(reason, 1, Integer::sum);
      }
    }
    return m;
  }

  @Override
  public void close() {
    informer.close();
  }
}
