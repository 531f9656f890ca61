package io.vaultmfa.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.javaoperatorsdk.operator.processing.Controller;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.config.ConfigException;
import io.vaultmfa.operator.config.OperatorConfig;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.iam.IamProvider;
import io.vaultmfa.operator.metrics.BindingMetrics;
import io.vaultmfa.operator.metrics.OutsideCalls;
import io.vaultmfa.operator.outside.Failpoints;
import io.vaultmfa.operator.reconciler.AwsMfaBindingReconciler;
import io.vaultmfa.operator.reconciler.Backoff;
import io.vaultmfa.operator.vault.TotpEngine;
import io.vaultmfa.operator.vault.VaultClients;
import java.util.Collections;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires configuration, clients, metrics and the reconciler, and runs the operator. */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  /** JOSDK tags reconciles with the retry attempt; without a cap that tag grows without end. */
  static final String RETRY_NUMBER_TAG = "reconciliations.retries.number";

  static final int RETRY_NUMBER_CAP = 5;

  private static final Set<MeterRegistry> CONFIGURED =
      Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

  private Main() {}

  public static void main(String[] args) throws Exception {
    OperatorConfig config;
    try {
      config = OperatorConfig.load(System.getenv());
    } catch (ConfigException e) {
      System.err.println("vault-mfa-operator: " + e.getMessage());
      System.exit(2);
      return;
    }
    if (config.jsonLogs()) {
      Logging.useJson();
    }
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    configure(registry); // meter filters first, so that they apply to every meter
    bindJvmMetrics(registry);
    VaultMfaOperator operator;
    KubernetesClient client =
        new KubernetesClientBuilder()
            .withHttpClientBuilderConsumer(Failpoints::watchKubernetes)
            .build();
    try {
      operator =
          create(
              config,
              client,
              registry,
              IamProvider.Settings.defaults(
                  config.get(Setting.AWS_REGION),
                  endpoint(config, Setting.AWS_IAM_ENDPOINT),
                  endpoint(config, Setting.AWS_STS_ENDPOINT)),
              Leadership::exit);
    } catch (ConfigException e) {
      System.err.println("vault-mfa-operator: " + e.getMessage());
      System.exit(2);
      return;
    }
    // With leader election java-operator-sdk installs no hook of its own; this one stops
    // reconciles and hands the Lease to a standby.
    Runtime.getRuntime().addShutdownHook(new Thread(operator::stop, "shutdown"));
    if (config.metricsPort() > 0) {
      // Before start: /healthz answers while informers fill their caches, /readyz says starting.
      try {
        LOG.info(
            "metrics and health on port {}", operator.serve(config.metricsPort(), registry).port());
      } catch (java.net.BindException e) {
        System.err.println(
            "vault-mfa-operator: cannot listen on port "
                + config.metricsPort()
                + " ("
                + Setting.METRICS_PORT.key()
                + ", environment "
                + Setting.METRICS_PORT.env()
                + "): "
                + e.getMessage());
        System.exit(2);
      }
    }
    try {
      begin(operator, config);
    } catch (RuntimeException e) {
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      LOG.error(
          "cannot start against the Kubernetes API server {}: {} (cause: {})",
          client.getConfiguration().getMasterUrl(),
          e.getMessage(),
          root.toString(),
          e);
      System.exit(1);
    }
  }

  /** Builds and starts the operator; tests call this with their own clients. */
  public static VaultMfaOperator start(
      OperatorConfig config,
      KubernetesClient client,
      MeterRegistry registry,
      IamProvider.Settings aws) {
    return start(config, client, registry, aws, Leadership::exit);
  }

  /**
   * As {@link #start(OperatorConfig, KubernetesClient, MeterRegistry, IamProvider.Settings)}, with
   * what to do when this replica loses the leader Lease while running (production: exit).
   */
  public static VaultMfaOperator start(
      OperatorConfig config,
      KubernetesClient client,
      MeterRegistry registry,
      IamProvider.Settings aws,
      Runnable onLostLease) {
    VaultMfaOperator operator = create(config, client, registry, aws, onLostLease);
    begin(operator, config);
    return operator;
  }

  /** As above, with the reconciler built by {@code reconcilers}: the benchmark's seam. */
  public static VaultMfaOperator start(
      OperatorConfig config,
      KubernetesClient client,
      MeterRegistry registry,
      IamProvider.Settings aws,
      AwsMfaBindingReconciler.Factory reconcilers) {
    VaultMfaOperator operator =
        create(config, client, registry, aws, Leadership::exit, reconcilers);
    begin(operator, config);
    return operator;
  }

  static VaultMfaOperator create(
      OperatorConfig config,
      KubernetesClient client,
      MeterRegistry registry,
      IamProvider.Settings aws,
      Runnable onLostLease) {
    return create(config, client, registry, aws, onLostLease, AwsMfaBindingReconciler::new);
  }

  static VaultMfaOperator create(
      OperatorConfig config,
      KubernetesClient client,
      MeterRegistry registry,
      IamProvider.Settings aws,
      Runnable onLostLease,
      AwsMfaBindingReconciler.Factory reconcilers) {
    configure(registry);
    OutsideCalls calls = new OutsideCalls(registry);
    BindingMetrics bindingMetrics = BindingMetrics.of(registry);
    Leadership leadership = Leadership.of(config, System.getenv(), client, onLostLease);
    IamProvider iam = new IamProvider(aws, calls, config.iamRequestsPerSecond());
    TotpEngine vault = new TotpEngine(VaultClients.template(config), calls);
    var settings =
        new AwsMfaBindingReconciler.Settings(
            config.clusterId(),
            config.get(Setting.VAULT_TOTP_MOUNT),
            config.publicVaultAddress(),
            config.resyncInterval());
    VaultMfaOperator operator =
        new VaultMfaOperator(
            o -> {
              o.withKubernetesClient(client)
                  .withConcurrentReconciliationThreads(config.concurrency())
                  .withUseSSAToPatchPrimaryResource(config.serverSideApply())
                  // Per resource type only: no binding name, namespace or uid in any tag.
                  .withMetrics(MicrometerMetrics.withoutPerResourceMetrics(registry))
                  .withCloseClientOnStop(false);
              if (leadership.enabled()) {
                o.withLeaderElectionConfiguration(leadership.configuration());
              }
            },
            leadership,
            bindingMetrics,
            client);
    var registered =
        operator.register(
            reconcilers.create(settings, iam, vault).withMetrics(bindingMetrics),
            c -> {
              c.withReconciliationMaxInterval(config.resyncInterval());
              // Never give up on a binding: exponential backoff with jitter, capped (see Backoff).
              c.withRetry(new Backoff(config.retryInitialInterval(), config.retryMaxInterval()));
              if (!config.watchNamespaces().isEmpty()) {
                c.settingNamespaces(config.watchNamespaces());
              }
              config.labelSelector().ifPresent(c::withLabelSelector);
              c.withItemStore(AwsMfaBindingReconciler.withoutManagedFields());
            });
    // The controller's own informer cache: every binding this deployment handles, kept current
    // on standby replicas too. RegisteredController is the Controller itself in JOSDK 5.
    var source = ((Controller<AwsMfaBinding>) registered).getEventSourceManager();
    bindingMetrics.watch(() -> source.getControllerEventSource().list(), operator::isLeader);
    return operator;
  }

  private static void begin(VaultMfaOperator operator, OperatorConfig config) {
    operator.start();
    LOG.info(
        "vault-mfa-operator started (cluster id {}, watching {}{}, {})",
        config.clusterId(),
        config.watchNamespaces().isEmpty() ? "all namespaces" : config.watchNamespaces(),
        config.labelSelector().map(s -> " with labels " + s).orElse(""),
        operator.leadershipDescription());
  }

  /**
   * Registry-wide settings, once per registry: JOSDK's retry-attempt tag capped at {@value
   * #RETRY_NUMBER_CAP}+ so that a binding failing for weeks does not add a series per attempt.
   */
  static void configure(MeterRegistry registry) {
    if (!CONFIGURED.add(registry)) {
      return;
    }
    registry
        .config()
        .meterFilter(
            MeterFilter.replaceTagValues(
                RETRY_NUMBER_TAG, Main::cappedRetryNumber, retryNumbersBelowCap()));
  }

  /** Memory, garbage collection, threads, CPU and uptime of this process ({@code jvm_*}...). */
  private static void bindJvmMetrics(MeterRegistry registry) {
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  static String cappedRetryNumber(String attempt) {
    try {
      return Integer.parseInt(attempt) >= RETRY_NUMBER_CAP ? RETRY_NUMBER_CAP + "+" : attempt;
    } catch (NumberFormatException e) {
      return attempt;
    }
  }

  private static String[] retryNumbersBelowCap() {
    String[] v = new String[RETRY_NUMBER_CAP];
    for (int i = 0; i < RETRY_NUMBER_CAP; i++) {
      v[i] = String.valueOf(i);
    }
    return v;
  }

  static Optional<java.net.URI> endpoint(OperatorConfig c, Setting s) {
    return c.optional(s).map(v -> c.uri(s));
  }
}
