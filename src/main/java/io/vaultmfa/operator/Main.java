package io.vaultmfa.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vaultmfa.operator.config.ConfigException;
import io.vaultmfa.operator.config.OperatorConfig;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.iam.IamProvider;
import io.vaultmfa.operator.metrics.HealthServer;
import io.vaultmfa.operator.metrics.OutsideCalls;
import io.vaultmfa.operator.reconciler.AwsMfaBindingReconciler;
import io.vaultmfa.operator.reconciler.Backoff;
import io.vaultmfa.operator.vault.TotpEngine;
import io.vaultmfa.operator.vault.VaultClients;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires configuration, clients, metrics and the reconciler, and runs the operator. */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) throws Exception {
    OperatorConfig config;
    try {
      String file = System.getenv().getOrDefault("VAULTMFA_CONFIG", "config/operator.yaml");
      config = OperatorConfig.load(Path.of(file), System.getenv());
    } catch (ConfigException e) {
      System.err.println("vault-mfa-operator: " + e.getMessage());
      System.exit(2);
      return;
    }
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Operator operator =
        start(
            config,
            new KubernetesClientBuilder().build(),
            registry,
            IamProvider.Settings.defaults(
                config.get(Setting.AWS_REGION),
                endpoint(config, Setting.AWS_IAM_ENDPOINT),
                endpoint(config, Setting.AWS_STS_ENDPOINT)));
    if (config.metricsPort() > 0) {
      HealthServer health =
          new HealthServer(
              config.metricsPort(),
              registry,
              () -> operator.getRuntimeInfo().allEventSourcesAreHealthy());
      LOG.info("metrics and health on port {}", health.port());
    }
    operator.installShutdownHook(Duration.ofSeconds(10));
  }

  /** Builds and starts the operator; tests call this with their own clients. */
  public static Operator start(
      OperatorConfig config,
      KubernetesClient client,
      io.micrometer.core.instrument.MeterRegistry registry,
      IamProvider.Settings aws) {
    OutsideCalls calls = new OutsideCalls(registry);
    IamProvider iam = new IamProvider(aws, calls);
    TotpEngine vault = new TotpEngine(VaultClients.template(config), calls);
    var settings =
        new AwsMfaBindingReconciler.Settings(
            config.clusterId(),
            config.get(Setting.VAULT_TOTP_MOUNT),
            config.publicVaultAddress(),
            config.resyncInterval());
    Operator operator =
        new Operator(
            o ->
                o.withKubernetesClient(client)
                    .withConcurrentReconciliationThreads(config.concurrency())
                    .withUseSSAToPatchPrimaryResource(config.serverSideApply())
                    .withMetrics(
                        MicrometerMetrics.newPerResourceCollectingMicrometerMetricsBuilder(registry)
                            .build())
                    .withCloseClientOnStop(false));
    operator.register(
        new AwsMfaBindingReconciler(settings, iam, vault),
        c -> {
          c.withReconciliationMaxInterval(config.resyncInterval());
          // Never give up on a binding: exponential backoff with jitter, capped (see Backoff).
          c.withRetry(new Backoff(config.retryInitialInterval(), config.retryMaxInterval()));
          if (!config.watchNamespaces().isEmpty()) {
            c.settingNamespaces(config.watchNamespaces());
          }
        });
    operator.start();
    LOG.info(
        "vault-mfa-operator started (cluster id {}, watching {})",
        config.clusterId(),
        config.watchNamespaces().isEmpty() ? "all namespaces" : config.watchNamespaces());
    return operator;
  }

  static Optional<java.net.URI> endpoint(OperatorConfig c, Setting s) {
    return c.optional(s).map(v -> c.uri(s));
  }
}
