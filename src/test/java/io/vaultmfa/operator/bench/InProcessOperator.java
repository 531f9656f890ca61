package io.vaultmfa.operator.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vaultmfa.operator.Main;
import io.vaultmfa.operator.config.OperatorConfig;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.reconciler.AwsMfaBindingReconciler;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The operator in the benchmark's JVM, started through {@link Main#start} as in production (server-
 * side apply on), with its own meter registry and a Kubernetes client that counts its writes.
 */
final class InProcessOperator implements AutoCloseable {

  static final String CLUSTER_ID = "bench";

  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final KubeWrites writes = new KubeWrites();
  final AwsAttempts attempts = new AwsAttempts();
  private final KubernetesClient client;
  private final Operator operator;

  InProcessOperator(
      BenchStack stack,
      String namespace,
      int concurrency,
      int iamRequestsPerSecond,
      String resync,
      AwsMfaBindingReconciler.Factory reconcilers) {
    client =
        new KubernetesClientBuilder()
            .withConfig(stack.controlPlane.config())
            .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("bench-writes", writes))
            .build();
    Map<Setting, String> s = new EnumMap<>(Setting.class);
    s.put(Setting.CLUSTER_ID, CLUSTER_ID);
    s.put(Setting.WATCH_NAMESPACES, namespace);
    s.put(Setting.VAULT_ADDRESS, stack.bao.address());
    s.put(Setting.VAULT_TOKEN, stack.bao.token());
    s.put(Setting.CONCURRENCY, String.valueOf(concurrency));
    s.put(Setting.AWS_IAM_RPS, String.valueOf(iamRequestsPerSecond));
    s.put(Setting.RESYNC_INTERVAL, resync);
    s.put(Setting.METRICS_PORT, "0");
    operator =
        Main.start(
            OperatorConfig.of(s),
            client,
            meters,
            stack.moto.operatorSettings(List.of(attempts)),
            reconcilers);
  }

  Counts counts() {
    return Counts.of(meters, writes);
  }

  /** Reconciliations started so far (java-operator-sdk's own counter, summed over bindings). */
  long reconciles() {
    return meters.find("operator.sdk.reconciliations.started").counters().stream()
        .mapToLong(c -> (long) c.count())
        .sum();
  }

  /** Everything that moves when the operator works: outside calls, writes, reconciliations. */
  long activity() {
    return counts().total() + reconciles();
  }

  @Override
  public void close() {
    operator.stop();
    client.close();
  }
}
