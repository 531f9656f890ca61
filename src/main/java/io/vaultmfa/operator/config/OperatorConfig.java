package io.vaultmfa.operator.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The operator's settings: defaults, then {@code operator.yaml} (nested keys), then environment
 * variables. Every value is checked at start, and a bad one is reported with its key and variable.
 */
public final class OperatorConfig {

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

  private final Map<Setting, String> values;

  private OperatorConfig(Map<Setting, String> values) {
    this.values = values;
    validate();
  }

  /** The environment variable naming the configuration file. */
  public static final String CONFIG_FILE_ENV = "VAULTMFA_CONFIG";

  static final String DEFAULT_CONFIG_FILE = "config/operator.yaml";

  /**
   * Loads from the file named by {@value #CONFIG_FILE_ENV} (default {@value #DEFAULT_CONFIG_FILE},
   * which may be absent) and the environment.
   */
  public static OperatorConfig load(Map<String, String> env) {
    String named = env.get(CONFIG_FILE_ENV);
    if (named != null && !named.isEmpty() && !Files.exists(Path.of(named))) {
      // A wrong path (a ConfigMap mounted elsewhere) would otherwise start on defaults.
      throw new ConfigException(
          "configuration file " + named + " (environment " + CONFIG_FILE_ENV + ") does not exist");
    }
    String file = named == null || named.isEmpty() ? DEFAULT_CONFIG_FILE : named;
    return load(Path.of(file), env);
  }

  /** Loads from the file (may be null or missing) and the environment. */
  public static OperatorConfig load(Path file, Map<String, String> env) {
    Map<Setting, String> v = new EnumMap<>(Setting.class);
    for (Setting s : Setting.values()) {
      if (s.defaultValue() != null) {
        v.put(s, s.defaultValue());
      }
    }
    if (file != null && Files.exists(file)) {
      JsonNode root = readYaml(file);
      if (!root.isObject()) {
        throw new ConfigException(
            "configuration file " + file + " must be a mapping of keys such as clusterId");
      }
      refuseUnknownKeys(file, root, "");
      for (Setting s : Setting.values()) {
        JsonNode n = root;
        for (String part : s.key().split("\\.")) {
          n = n.path(part);
        }
        if (!n.isMissingNode() && !n.isNull()) {
          if (n.isContainerNode()) {
            throw new ConfigException(s.key() + " in " + file + " must be a single value");
          }
          v.put(s, n.asText());
        }
      }
    }
    for (Setting s : Setting.values()) {
      String e = env.get(s.env());
      if (e != null && !e.isEmpty()) {
        v.put(s, e);
      }
    }
    return new OperatorConfig(v);
  }

  /**
   * A misspelt key would otherwise leave its default in force without a word (a shard without its
   * labelSelector handles every binding), so every key of the file must be a setting or a mapping
   * on the way to one.
   */
  private static void refuseUnknownKeys(Path file, JsonNode node, String prefix) {
    for (var it = node.fields(); it.hasNext(); ) {
      var field = it.next();
      String key = prefix + field.getKey();
      // "vault.address: x" is one key with a dot in YAML, not vault: {address: x}.
      boolean dotted = field.getKey().contains(".");
      boolean setting =
          !dotted && Arrays.stream(Setting.values()).anyMatch(s -> s.key().equals(key));
      boolean parent =
          !dotted && Arrays.stream(Setting.values()).anyMatch(s -> s.key().startsWith(key + "."));
      if (setting) {
        continue;
      }
      if (parent && field.getValue().isObject()) {
        refuseUnknownKeys(file, field.getValue(), key + ".");
      } else if (!parent) {
        throw new ConfigException(
            "unknown setting "
                + key
                + " in "
                + file
                + " (keys are nested: vault.address is vault: {address: ...}; README.md,"
                + " \"Configuration reference\", lists every key)");
      }
    }
  }

  public static OperatorConfig of(Map<Setting, String> values) {
    Map<Setting, String> v = new EnumMap<>(Setting.class);
    for (Setting s : Setting.values()) {
      if (s.defaultValue() != null) {
        v.put(s, s.defaultValue());
      }
    }
    v.putAll(values);
    return new OperatorConfig(v);
  }

  private static JsonNode readYaml(Path file) {
    try {
      JsonNode n = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
      return n == null ? new ObjectMapper().createObjectNode() : n;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      // Never e.getMessage(): SnakeYAML quotes the offending line, which may hold vault.token.
      com.fasterxml.jackson.core.JsonLocation at = e.getLocation();
      throw new ConfigException(
          "configuration file "
              + file
              + " is not valid YAML"
              + (at == null
                  ? ""
                  : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"));
    } catch (IOException e) {
      throw new ConfigException(
          "cannot read configuration file " + file + ": " + e.getClass().getSimpleName());
    }
  }

  private void validate() {
    for (Setting s : Setting.values()) {
      if (s.defaultValue() == null && get(s).isEmpty()) {
        throw new ConfigException(
            "missing setting " + s.key() + " (environment " + s.env() + "): " + s.description());
      }
    }
    duration(Setting.RESYNC_INTERVAL);
    if (retryMaxInterval().compareTo(retryInitialInterval()) < 0) {
      throw bad(
          Setting.RETRY_MAX_INTERVAL,
          get(Setting.RETRY_MAX_INTERVAL),
          "must not be shorter than retry.initialInterval ("
              + get(Setting.RETRY_INITIAL_INTERVAL)
              + ")");
    }
    positiveInt(Setting.CONCURRENCY, 1);
    positiveInt(Setting.METRICS_PORT, 0);
    positiveInt(Setting.AWS_IAM_RPS, 0);
    if (metricsPort() > 65535) {
      throw bad(Setting.METRICS_PORT, get(Setting.METRICS_PORT), "must be at most 65535");
    }
    bool(Setting.SERVER_SIDE_APPLY);
    uri(Setting.VAULT_ADDRESS);
    if (!get(Setting.VAULT_PUBLIC_ADDRESS).isEmpty()) {
      uri(Setting.VAULT_PUBLIC_ADDRESS);
    }
    if (!get(Setting.AWS_IAM_ENDPOINT).isEmpty()) {
      uri(Setting.AWS_IAM_ENDPOINT);
    }
    if (!get(Setting.AWS_STS_ENDPOINT).isEmpty()) {
      uri(Setting.AWS_STS_ENDPOINT);
    }
    String auth = get(Setting.VAULT_AUTH);
    if (!auth.equals("token") && !auth.equals("kubernetes")) {
      throw bad(Setting.VAULT_AUTH, auth, "must be token or kubernetes");
    }
    if (auth.equals("token")
        && get(Setting.VAULT_TOKEN).isEmpty()
        && get(Setting.VAULT_TOKEN_FILE).isEmpty()) {
      throw new ConfigException(
          "vault.auth is token but neither vault.token (VAULT_TOKEN) nor "
              + "vault.tokenFile (VAULTMFA_VAULT_TOKEN_FILE) is set");
    }
    if (!get(Setting.VAULT_TOTP_MOUNT).matches(io.vaultmfa.operator.api.Rules.VAULT_MOUNT)) {
      throw bad(
          Setting.VAULT_TOTP_MOUNT,
          get(Setting.VAULT_TOTP_MOUNT),
          "must be a mount path such as totp or team/totp");
    }
    for (String ns : watchNamespaces()) {
      if (ns.length() > 63 || !ns.matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")) {
        throw bad(Setting.WATCH_NAMESPACES, ns, "is not a namespace name");
      }
    }
    labelSelector().ifPresent(OperatorConfig::checkLabelSelector);
    bool(Setting.LEADER_ELECTION);
    String lease = get(Setting.LEASE_NAME);
    if (lease.length() > 253 || !lease.matches(DNS_SUBDOMAIN)) {
      throw bad(Setting.LEASE_NAME, lease, "must be a Kubernetes object name such as my-operator");
    }
    String leaseNs = get(Setting.LEASE_NAMESPACE);
    if (!leaseNs.isEmpty() && (leaseNs.length() > 63 || !leaseNs.matches(DNS_LABEL))) {
      throw bad(Setting.LEASE_NAMESPACE, leaseNs, "is not a namespace name");
    }
    if (leaseDuration().compareTo(Duration.ofSeconds(2)) < 0) {
      throw bad(Setting.LEASE_DURATION, get(Setting.LEASE_DURATION), "must be at least 2s");
    }
    if (get(Setting.LEADER_IDENTITY).length() > 128) {
      throw bad(Setting.LEADER_IDENTITY, get(Setting.LEADER_IDENTITY), "is longer than 128");
    }
    String format = get(Setting.LOG_FORMAT);
    if (!format.equals("text") && !format.equals("json")) {
      throw bad(Setting.LOG_FORMAT, format, "must be text or json");
    }
  }

  private static final String DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  private static final String DNS_SUBDOMAIN = DNS_LABEL + "(\\." + DNS_LABEL + ")*";
  private static final String LABEL_NAME = "[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?";
  private static final String LABEL_KEY = "(" + DNS_SUBDOMAIN + "/)?" + LABEL_NAME;
  private static final Pattern SELECTOR_REQUIREMENT =
      Pattern.compile(
          "!?\\s*"
              + LABEL_KEY
              + "|"
              + LABEL_KEY
              + "\\s*(=|==|!=)\\s*("
              + LABEL_NAME
              + ")?"
              + "|"
              + LABEL_KEY
              + "\\s+(in|notin)\\s*\\(\\s*("
              + LABEL_NAME
              + ")?(\\s*,\\s*("
              + LABEL_NAME
              + ")?)*\\s*\\)");

  /**
   * Checks Kubernetes' label selector syntax ({@code a=b,c!=d,e in (f,g),!h}) here, so that a typo
   * stops the operator at start with the setting's name instead of failing every list call.
   */
  private static void checkLabelSelector(String selector) {
    // Requirements are split at commas outside parentheses, so unbalanced ones would hide the
    // rest of the selector from the check (and the API server refuses it at the first list).
    int open = 0;
    for (char c : selector.toCharArray()) {
      open += c == '(' ? 1 : c == ')' ? -1 : 0;
      if (open < 0 || open > 1) {
        break;
      }
    }
    if (open != 0) {
      throw bad(
          Setting.LABEL_SELECTOR,
          selector,
          "is not a label selector: its parentheses do not pair up, as in key in (v1,v2)");
    }
    int depth = 0;
    int from = 0;
    for (int i = 0; i <= selector.length(); i++) {
      char c = i < selector.length() ? selector.charAt(i) : ',';
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == ',' && depth == 0) {
        String requirement = selector.substring(from, i).trim();
        if (!SELECTOR_REQUIREMENT.matcher(requirement).matches()) {
          throw bad(
              Setting.LABEL_SELECTOR,
              selector,
              "is not a label selector: '"
                  + requirement
                  + "' must be key, !key, key=value, key!=value, key in (v1,v2) or"
                  + " key notin (v1,v2)");
        }
        from = i + 1;
      }
    }
  }

  public String get(Setting s) {
    return values.getOrDefault(s, "").trim();
  }

  public Optional<String> optional(Setting s) {
    String v = get(s);
    return v.isEmpty() ? Optional.empty() : Optional.of(v);
  }

  public String clusterId() {
    return get(Setting.CLUSTER_ID);
  }

  public Set<String> watchNamespaces() {
    return Arrays.stream(get(Setting.WATCH_NAMESPACES).split(","))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .collect(Collectors.toCollection(java.util.TreeSet::new));
  }

  /** The Vault address workloads are told to use. */
  public String publicVaultAddress() {
    return optional(Setting.VAULT_PUBLIC_ADDRESS).orElse(get(Setting.VAULT_ADDRESS));
  }

  public Duration resyncInterval() {
    return duration(Setting.RESYNC_INTERVAL);
  }

  public Duration retryInitialInterval() {
    return duration(Setting.RETRY_INITIAL_INTERVAL);
  }

  public Duration retryMaxInterval() {
    return duration(Setting.RETRY_MAX_INTERVAL);
  }

  public int concurrency() {
    return positiveInt(Setting.CONCURRENCY, 1);
  }

  public int metricsPort() {
    return positiveInt(Setting.METRICS_PORT, 0);
  }

  /** IAM requests per second the operator may send; 0 means no limit. */
  public int iamRequestsPerSecond() {
    return positiveInt(Setting.AWS_IAM_RPS, 0);
  }

  public boolean serverSideApply() {
    return bool(Setting.SERVER_SIDE_APPLY);
  }

  public Optional<String> labelSelector() {
    return optional(Setting.LABEL_SELECTOR);
  }

  public boolean leaderElection() {
    return bool(Setting.LEADER_ELECTION);
  }

  public Duration leaseDuration() {
    return duration(Setting.LEASE_DURATION);
  }

  /** The Lease's namespace: the setting, else the pod's namespace from the downward API. */
  public Optional<String> leaseNamespace(Map<String, String> env) {
    return optional(Setting.LEASE_NAMESPACE)
        .or(() -> Optional.ofNullable(env.get("POD_NAMESPACE")).filter(s -> !s.isBlank()));
  }

  /** This replica's identity in the Lease: the setting, else HOSTNAME (the pod's name). */
  public Optional<String> leaderIdentity(Map<String, String> env) {
    return optional(Setting.LEADER_IDENTITY)
        .or(() -> Optional.ofNullable(env.get("HOSTNAME")).filter(s -> !s.isBlank()));
  }

  public boolean jsonLogs() {
    return get(Setting.LOG_FORMAT).equals("json");
  }

  public URI uri(Setting s) {
    try {
      URI u = URI.create(get(s));
      if (u.getScheme() == null
          || u.getHost() == null
          || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) {
        throw bad(s, get(s), "must be an http or https URL");
      }
      return u;
    } catch (IllegalArgumentException e) {
      throw bad(s, get(s), "must be an http or https URL");
    }
  }

  private Duration duration(Setting s) {
    String v = get(s);
    Matcher m = DURATION.matcher(v);
    Duration d = Duration.ZERO;
    int end = 0;
    try {
      while (m.find() && m.start() == end) {
        long n = Long.parseLong(m.group(1));
        d =
            d.plus(
                switch (m.group(2)) {
                  case "ms" -> Duration.ofMillis(n);
                  case "s" -> Duration.ofSeconds(n);
                  case "m" -> Duration.ofMinutes(n);
                  default -> Duration.ofHours(n);
                });
        end = m.end();
      }
    } catch (NumberFormatException | ArithmeticException e) {
      throw bad(s, v, "is too large for a duration");
    }
    if (v.isEmpty() || end != v.length() || d.isZero()) {
      throw bad(s, v, "must be a duration such as 30s, 10m or 1h");
    }
    return d;
  }

  private int positiveInt(Setting s, int min) {
    try {
      int n = Integer.parseInt(get(s));
      if (n < min) {
        throw bad(s, get(s), "must be at least " + min);
      }
      return n;
    } catch (NumberFormatException e) {
      throw bad(s, get(s), "must be a whole number");
    }
  }

  private boolean bool(Setting s) {
    String v = get(s);
    if (!v.equals("true") && !v.equals("false")) {
      throw bad(s, v, "must be true or false");
    }
    return Boolean.parseBoolean(v);
  }

  private static ConfigException bad(Setting s, String value, String rule) {
    String shown = s == Setting.VAULT_TOKEN ? "(hidden)" : "'" + value + "'";
    return new ConfigException(
        "setting " + s.key() + " (environment " + s.env() + ") " + shown + " " + rule);
  }
}
