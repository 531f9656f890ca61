package io.vaultmfa.operator.config;

/**
 * Every setting of the operator, declared once: its key in {@code operator.yaml}, the environment
 * variable that overrides it, its default (null: required) and what it does. README.md's
 * configuration table is checked against this list by a test.
 */
public enum Setting {
  CLUSTER_ID(
      "clusterId",
      "VAULTMFA_CLUSTER_ID",
      null,
      "Id of this cluster, written in ownership tags; deployments that split a fleet share it."),
  WATCH_NAMESPACES(
      "watchNamespaces",
      "VAULTMFA_WATCH_NAMESPACES",
      "",
      "Comma-separated namespaces to watch; empty watches all."),
  RESYNC_INTERVAL(
      "resyncInterval",
      "VAULTMFA_RESYNC_INTERVAL",
      "10m",
      "How often a binding is checked again when nothing changes (e.g. 30s, 10m, 1h)."),
  CONCURRENCY(
      "concurrency", "VAULTMFA_CONCURRENCY", "4", "How many bindings are reconciled at once."),
  RETRY_INITIAL_INTERVAL(
      "retry.initialInterval",
      "VAULTMFA_RETRY_INITIAL_INTERVAL",
      "2s",
      "Longest wait before the first retry of a failed binding; doubles with each failure."),
  RETRY_MAX_INTERVAL(
      "retry.maxInterval",
      "VAULTMFA_RETRY_MAX_INTERVAL",
      "5m",
      "Cap of the wait between retries; a failing binding is retried without limit."),
  SERVER_SIDE_APPLY(
      "kubernetes.serverSideApply",
      "VAULTMFA_SERVER_SIDE_APPLY",
      "true",
      "Write status and finalizers with server-side apply (false: JSON merge patch)."),
  VAULT_ADDRESS(
      "vault.address", "VAULT_ADDR", null, "Vault address, e.g. https://vault.example.com:8200."),
  VAULT_PUBLIC_ADDRESS(
      "vault.publicAddress",
      "VAULTMFA_VAULT_PUBLIC_ADDR",
      "",
      "Vault address written to each binding's Secret for workloads; empty: vault.address."),
  VAULT_AUTH(
      "vault.auth",
      "VAULTMFA_VAULT_AUTH",
      "token",
      "How the operator logs in to Vault: token or kubernetes."),
  VAULT_TOKEN("vault.token", "VAULT_TOKEN", "", "Token for token auth (prefer vault.tokenFile)."),
  VAULT_TOKEN_FILE(
      "vault.tokenFile", "VAULTMFA_VAULT_TOKEN_FILE", "", "File holding the token for token auth."),
  VAULT_K8S_ROLE(
      "vault.kubernetes.role",
      "VAULTMFA_VAULT_K8S_ROLE",
      "vault-mfa-operator",
      "Vault role for Kubernetes auth."),
  VAULT_K8S_MOUNT(
      "vault.kubernetes.mount",
      "VAULTMFA_VAULT_K8S_MOUNT",
      "kubernetes",
      "Mount path of Vault's Kubernetes auth method."),
  VAULT_K8S_JWT_FILE(
      "vault.kubernetes.jwtFile",
      "VAULTMFA_VAULT_K8S_JWT_FILE",
      "/var/run/secrets/kubernetes.io/serviceaccount/token",
      "ServiceAccount token presented to Vault."),
  VAULT_CA_CERT(
      "vault.caCert",
      "VAULT_CACERT",
      "",
      "PEM file of the CA that signed Vault's certificate; empty: the JVM's trust store."),
  VAULT_NAMESPACE(
      "vault.namespace",
      "VAULT_NAMESPACE",
      "",
      "Vault Enterprise / OpenBao namespace; empty: none."),
  VAULT_TOTP_MOUNT(
      "vault.totpMount",
      "VAULTMFA_TOTP_MOUNT",
      "totp",
      "Default TOTP secrets engine mount for bindings that do not name one."),
  AWS_REGION("aws.region", "AWS_REGION", "us-east-1", "Region for the STS client (IAM is global)."),
  AWS_IAM_ENDPOINT(
      "aws.iamEndpoint",
      "VAULTMFA_AWS_IAM_ENDPOINT",
      "",
      "Override the IAM endpoint (e.g. an emulator); empty: AWS."),
  AWS_STS_ENDPOINT(
      "aws.stsEndpoint", "VAULTMFA_AWS_STS_ENDPOINT", "", "Override the STS endpoint; empty: AWS."),
  AWS_IAM_RPS(
      "aws.iamRequestsPerSecond",
      "VAULTMFA_AWS_IAM_RPS",
      "0",
      "Most IAM requests per second the operator sends, retries included; 0: no limit."),
  METRICS_PORT(
      "metrics.port",
      "VAULTMFA_METRICS_PORT",
      "8080",
      "Port of /metrics, /healthz and /readyz; 0 turns the server off."),
  LABEL_SELECTOR(
      "labelSelector",
      "VAULTMFA_LABEL_SELECTOR",
      "",
      "Kubernetes label selector of the bindings to handle (e.g. shard=a); empty handles all."),
  LEADER_ELECTION(
      "leaderElection.enabled",
      "VAULTMFA_LEADER_ELECTION",
      "false",
      "Elect one active replica through a Lease (the Deployment in deploy/ sets true)."),
  LEASE_NAME(
      "leaderElection.leaseName",
      "VAULTMFA_LEASE_NAME",
      "vault-mfa-operator",
      "Name of the Lease; each operator deployment needs its own."),
  LEASE_NAMESPACE(
      "leaderElection.leaseNamespace",
      "VAULTMFA_LEASE_NAMESPACE",
      "",
      "Namespace of the Lease; empty: POD_NAMESPACE (downward API), else the kubeconfig's."),
  LEASE_DURATION(
      "leaderElection.leaseDuration",
      "VAULTMFA_LEASE_DURATION",
      "15s",
      "How long a Lease not renewed stays the leader's (renewed within 2/3 of it)."),
  LEADER_IDENTITY(
      "leaderElection.identity",
      "VAULTMFA_LEADER_IDENTITY",
      "",
      "This replica's name in the Lease, before a random per-process suffix; empty: HOSTNAME."),
  LOG_FORMAT(
      "logging.format",
      "VAULTMFA_LOG_FORMAT",
      "text",
      "Log line format on standard output: text or json (one JSON object per line).");

  private final String key;
  private final String env;
  private final String defaultValue;
  private final String description;

  Setting(String key, String env, String defaultValue, String description) {
    this.key = key;
    this.env = env;
    this.defaultValue = defaultValue;
    this.description = description;
  }

  public String key() {
    return key;
  }

  public String env() {
    return env;
  }

  public String defaultValue() {
    return defaultValue;
  }

  public String description() {
    return description;
  }
}
