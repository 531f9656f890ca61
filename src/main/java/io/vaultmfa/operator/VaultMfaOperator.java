package io.vaultmfa.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.ConfigurationServiceOverrider;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vaultmfa.operator.metrics.BindingMetrics;
import io.vaultmfa.operator.metrics.HealthServer;
import java.io.IOException;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The operator as {@link Main} builds it: java-operator-sdk's {@link Operator} with this project's
 * leadership, binding metrics and health endpoints.
 */
public final class VaultMfaOperator extends Operator {

  private final Leadership leadership;
  private final BindingMetrics bindingMetrics;
  private final KubernetesClient client;
  private volatile HealthServer health;

  VaultMfaOperator(
      Consumer<ConfigurationServiceOverrider> overrider,
      Leadership leadership,
      BindingMetrics bindingMetrics,
      KubernetesClient client) {
    super(overrider);
    this.leadership = leadership;
    this.bindingMetrics = bindingMetrics;
    this.client = client;
  }

  /** True when this replica reconciles: it holds the Lease, or leader election is off. */
  public boolean isLeader() {
    return leadership.isLeader();
  }

  /** This replica's name in the Lease: the configured identity and a per-process suffix. */
  public String leaderIdentity() {
    return leadership.identity();
  }

  String leadershipDescription() {
    return leadership.describe();
  }

  public BindingMetrics bindingMetrics() {
    return bindingMetrics;
  }

  /**
   * Ready once started and every informer has synced and is watching. A standby replica is ready
   * too: its caches are warm and it takes over within seconds; {@code vaultmfa_leader} and the body
   * of /readyz say which replica leads.
   */
  public HealthServer.Readiness readiness() {
    return new HealthServer.Readiness() {
      @Override
      public Optional<String> missing() {
        if (!getRuntimeInfo().isStarted()) {
          return Optional.of("starting");
        }
        var unhealthy = new TreeSet<String>();
        getRuntimeInfo()
            .unhealthyEventSources()
            .forEach((controller, sources) -> unhealthy.addAll(sources.keySet()));
        return unhealthy.isEmpty()
            ? Optional.empty()
            : Optional.of("informers not synced or not watching: " + unhealthy);
      }

      @Override
      public String detail() {
        if (!leadership.enabled()) {
          return "ready";
        }
        return isLeader() ? "ready, leader" : "ready, standby";
      }
    };
  }

  /** Serves /metrics, /healthz and /readyz on the port (0: any free port) until {@link #stop}. */
  public HealthServer serve(int port, PrometheusMeterRegistry registry) throws IOException {
    health = new HealthServer(port, registry, readiness(), bindingMetrics::refresh);
    return health;
  }

  /** Stops on purpose: reconciles end, and the Lease, if held, is handed to a standby. */
  @Override
  public void stop() {
    leadership.stopping();
    try {
      super.stop();
    } finally {
      leadership.release(client);
      HealthServer h = health;
      if (h != null) {
        h.close();
      }
    }
  }
}
