package io.vaultmfa.operator;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.vaultmfa.operator.config.ConfigException;
import io.vaultmfa.operator.config.OperatorConfig;
import io.vaultmfa.operator.config.Setting;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who reconciles. With leader election on, replicas compete for a Lease; the holder reconciles and
 * the others keep their caches warm and wait. Without it this replica always reconciles.
 *
 * <p>java-operator-sdk cannot pause a controller once it runs, so a leader that loses its Lease
 * while running (the API server was unreachable for longer than the renew deadline) exits the
 * process; Kubernetes restarts it as a standby. A stop on purpose (SIGTERM, {@link
 * VaultMfaOperator#stop()}) is not such a loss: the Lease is handed back at once so that the
 * standby does not wait for it to expire.
 */
public final class Leadership {

  private static final Logger LOG = LoggerFactory.getLogger(Leadership.class);

  private final boolean enabled;
  private final String leaseName;
  private final String leaseNamespace;
  private final String identity;
  private final Duration leaseDuration;
  private final Runnable onLostLease;
  private volatile boolean leading;
  private volatile boolean stopping;

  private Leadership(
      boolean enabled,
      String leaseName,
      String leaseNamespace,
      String identity,
      Duration leaseDuration,
      Runnable onLostLease) {
    this.enabled = enabled;
    this.leaseName = leaseName;
    this.leaseNamespace = leaseNamespace;
    this.identity = identity;
    this.leaseDuration = leaseDuration;
    this.onLostLease = onLostLease;
  }

  /**
   * Reads the settings. The Lease's namespace is the setting, else POD_NAMESPACE, else the
   * namespace of the client's kubeconfig context. The identity is the setting, else HOSTNAME, else
   * "vault-mfa-operator", always followed by "_" and a random suffix per process: every replica
   * reads the same ConfigMap, and two replicas holding one name would both think they lead.
   */
  static Leadership of(
      OperatorConfig config,
      Map<String, String> env,
      KubernetesClient client,
      Runnable onLostLease) {
    boolean enabled = config.leaderElection();
    String namespace = null;
    if (enabled) {
      namespace =
          config
              .leaseNamespace(env)
              .or(() -> Optional.ofNullable(client.getConfiguration().getNamespace()))
              .orElseThrow(
                  () ->
                      new ConfigException(
                          "leader election is on but no namespace for its Lease: set "
                              + Setting.LEASE_NAMESPACE.key()
                              + " (environment "
                              + Setting.LEASE_NAMESPACE.env()
                              + ") or POD_NAMESPACE"));
    }
    Leadership l =
        new Leadership(
            enabled,
            config.get(Setting.LEASE_NAME),
            namespace,
            config.leaderIdentity(env).orElse("vault-mfa-operator")
                + "_"
                + UUID.randomUUID().toString().substring(0, 8),
            config.leaseDuration(),
            onLostLease);
    return l;
  }

  boolean enabled() {
    return enabled;
  }

  public boolean isLeader() {
    return !enabled || leading;
  }

  String identity() {
    return identity;
  }

  String describe() {
    return enabled
        ? "leader election on Lease " + leaseNamespace + "/" + leaseName + " as " + identity
        : "no leader election";
  }

  /**
   * JOSDK's configuration: renew within two thirds of the lease duration, retry every 2/15 of it
   * (15 s, 10 s and 2 s by default, the values Kubernetes' own controllers use).
   */
  LeaderElectionConfiguration configuration() {
    return new LeaderElectionConfiguration(
        leaseName,
        leaseNamespace,
        leaseDuration,
        leaseDuration.multipliedBy(2).dividedBy(3),
        leaseDuration.multipliedBy(2).dividedBy(15),
        identity,
        new LeaderCallbacks(this::started, this::stopped, this::newLeader),
        false);
  }

  private void started() {
    leading = true;
    LOG.info("this replica ({}) now leads and reconciles", identity);
  }

  private void stopped() {
    leading = false;
    if (stopping) {
      return;
    }
    LOG.error(
        "this replica ({}) lost the Lease {}/{} while running; exiting so that it restarts as a"
            + " standby",
        identity,
        leaseNamespace,
        leaseName);
    onLostLease.run();
  }

  private void newLeader(String who) {
    if (who != null && !who.equals(identity)) {
      LOG.info("{} leads; this replica ({}) stands by", who, identity);
    }
  }

  /** Called before the operator stops on purpose: losing the Lease now is expected. */
  void stopping() {
    stopping = true;
  }

  /** After the operator stopped: hands the Lease back if this replica still holds it. */
  void release(KubernetesClient client) {
    if (!enabled) {
      return;
    }
    try {
      var resource = client.leases().inNamespace(leaseNamespace).withName(leaseName);
      Lease lease = resource.get();
      if (lease == null
          || lease.getSpec() == null
          || !identity.equals(lease.getSpec().getHolderIdentity())) {
        return;
      }
      lease.getSpec().setHolderIdentity(null);
      lease.getSpec().setLeaseDurationSeconds(1);
      // The resourceVersion read above makes this fail if someone else wrote the Lease since.
      client.resource(lease).update();
      LOG.info("handed back Lease {}/{}", leaseNamespace, leaseName);
    } catch (KubernetesClientException e) {
      LOG.info(
          "cannot hand back Lease {}/{} (HTTP {}); it expires after {}",
          leaseNamespace,
          leaseName,
          e.getCode(),
          leaseDuration);
    }
  }

  /** In production a lost Lease ends the process; tests pass their own action. */
  static void exit() {
    Thread t = new Thread(() -> System.exit(1), "lost-lease-exit");
    t.setDaemon(false);
    t.start();
  }
}
