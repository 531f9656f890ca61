package io.vaultmfa.operator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class OperatorConfigTest {

  static final String TOKEN = "hvs.CAESIJ-not-a-real-token-8f3c";

  @TempDir Path dir;

  /** The least environment that starts: the two required settings and a token. */
  static Map<String, String> env(String... pairs) {
    Map<String, String> e = new HashMap<>();
    e.put("VAULTMFA_CLUSTER_ID", "prod-eu-1");
    e.put("VAULT_ADDR", "https://vault.example.com:8200");
    e.put("VAULT_TOKEN", TOKEN);
    for (int i = 0; i < pairs.length; i += 2) {
      e.put(pairs[i], pairs[i + 1]);
    }
    return e;
  }

  static OperatorConfig load(Map<String, String> env) {
    return OperatorConfig.load(null, env);
  }

  Path yaml(String text) throws IOException {
    Path f = dir.resolve("operator.yaml");
    Files.writeString(f, text);
    return f;
  }

  @Nested
  class Defaults {

    OperatorConfig c = load(env());

    @Test
    void resyncIsTenMinutes() {
      assertThat(c.resyncInterval()).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void concurrencyIsFour() {
      assertThat(c.concurrency()).isEqualTo(4);
    }

    @Test
    void retryBacksOffFromTwoSecondsToFiveMinutes() {
      assertThat(c.retryInitialInterval()).isEqualTo(Duration.ofSeconds(2));
      assertThat(c.retryMaxInterval()).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void metricsPortIs8080() {
      assertThat(c.metricsPort()).isEqualTo(8080);
    }

    @Test
    void serverSideApplyIsOn() {
      assertThat(c.serverSideApply()).isTrue();
    }

    @Test
    void allNamespacesAreWatched() {
      assertThat(c.watchNamespaces()).isEmpty();
    }

    @Test
    void vaultAuthIsTokenAndMountIsTotp() {
      assertThat(c.get(Setting.VAULT_AUTH)).isEqualTo("token");
      assertThat(c.get(Setting.VAULT_TOTP_MOUNT)).isEqualTo("totp");
    }

    @Test
    void publicVaultAddressFallsBackToVaultAddress() {
      assertThat(c.publicVaultAddress()).isEqualTo("https://vault.example.com:8200");
    }

    @Test
    void awsEndpointsAreUnset() {
      assertThat(c.optional(Setting.AWS_IAM_ENDPOINT)).isEmpty();
      assertThat(c.optional(Setting.AWS_STS_ENDPOINT)).isEmpty();
    }
  }

  @Nested
  class FileThenEnvironment {

    static final String FILE =
        String.join(
            "\n",
            "clusterId: from-file",
            "resyncInterval: 90s",
            "concurrency: 8",
            "watchNamespaces: team-a, team-b",
            "kubernetes:",
            "  serverSideApply: false",
            "vault:",
            "  address: http://127.0.0.1:8200",
            "  totpMount: team/totp",
            "  kubernetes:",
            "    role: from-file-role",
            "metrics:",
            "  port: 9090",
            "");

    @Test
    void nestedKeysAreRead() throws IOException {
      OperatorConfig c = OperatorConfig.load(yaml(FILE), Map.of("VAULT_TOKEN", TOKEN));
      assertThat(c.clusterId()).isEqualTo("from-file");
      assertThat(c.resyncInterval()).isEqualTo(Duration.ofSeconds(90));
      assertThat(c.concurrency()).isEqualTo(8);
      assertThat(c.watchNamespaces()).containsExactly("team-a", "team-b");
      assertThat(c.serverSideApply()).isFalse();
      assertThat(c.get(Setting.VAULT_ADDRESS)).isEqualTo("http://127.0.0.1:8200");
      assertThat(c.get(Setting.VAULT_TOTP_MOUNT)).isEqualTo("team/totp");
      assertThat(c.get(Setting.VAULT_K8S_ROLE)).isEqualTo("from-file-role");
      assertThat(c.metricsPort()).isEqualTo(9090);
    }

    @Test
    void environmentOverridesTheFile() throws IOException {
      OperatorConfig c =
          OperatorConfig.load(
              yaml(FILE),
              Map.of(
                  "VAULT_TOKEN", TOKEN,
                  "VAULTMFA_CLUSTER_ID", "from-env",
                  "VAULTMFA_CONCURRENCY", "2",
                  "VAULTMFA_SERVER_SIDE_APPLY", "true",
                  "VAULTMFA_VAULT_K8S_ROLE", "from-env-role"));
      assertThat(c.clusterId()).isEqualTo("from-env");
      assertThat(c.concurrency()).isEqualTo(2);
      assertThat(c.serverSideApply()).isTrue();
      assertThat(c.get(Setting.VAULT_K8S_ROLE)).isEqualTo("from-env-role");
    }

    @Test
    void fileValuesNotOverriddenStay() throws IOException {
      OperatorConfig c =
          OperatorConfig.load(
              yaml(FILE), Map.of("VAULT_TOKEN", TOKEN, "VAULTMFA_CONCURRENCY", "2"));
      assertThat(c.resyncInterval()).isEqualTo(Duration.ofSeconds(90));
    }

    @Test
    void anEmptyEnvironmentVariableDoesNotOverride() throws IOException {
      OperatorConfig c =
          OperatorConfig.load(yaml(FILE), Map.of("VAULT_TOKEN", TOKEN, "VAULTMFA_CLUSTER_ID", ""));
      assertThat(c.clusterId()).isEqualTo("from-file");
    }

    @Test
    void aMissingFileMeansDefaultsAndEnvironment() {
      OperatorConfig c = OperatorConfig.load(dir.resolve("absent.yaml"), env());
      assertThat(c.clusterId()).isEqualTo("prod-eu-1");
      assertThat(c.concurrency()).isEqualTo(4);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
        delimiter = '|',
        value = { // ~ stands for a line break
          // A typo would otherwise leave the default in force without a word: here a 1s resync,
          // leader election and a shard's selector (two shards then reconcile the same bindings).
          "resyncIntreval: 1s|resyncIntreval",
          "leaderelection:~  enabled: true|leaderelection",
          "labelselector: shard=a|labelselector",
          "vault:~  adress: http://127.0.0.1:8200|vault.adress",
          "vault.address: http://127.0.0.1:8200|vault.address"
        })
    void anUnknownKeyIsRefusedWithItsName(String text, String key) throws IOException {
      Path f = yaml(text.replace("~", "\n") + "\n");
      assertThatThrownBy(() -> OperatorConfig.load(f, env()))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("unknown setting " + key)
          .hasMessageContaining(f.toString());
    }

    @Test
    void aFileThatIsNotAMappingIsRefused() throws IOException {
      Path f = yaml("- clusterId: from-file\n");
      assertThatThrownBy(() -> OperatorConfig.load(f, env()))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining(f.toString())
          .hasMessageContaining("mapping");
    }

    @Test
    void aFileNamedInVaultmfaConfigMustExist() {
      Path absent = dir.resolve("absent.yaml");
      assertThatThrownBy(() -> OperatorConfig.load(env("VAULTMFA_CONFIG", absent.toString())))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("VAULTMFA_CONFIG")
          .hasMessageContaining(absent.toString());
    }

    @Test
    void withoutVaultmfaConfigTheDefaultFileMayBeAbsent() {
      // The default, config/operator.yaml relative to the working directory, exists in a checkout;
      // the environment alone is enough wherever it does not.
      assertThat(OperatorConfig.load(env()).clusterId()).isEqualTo("prod-eu-1");
    }

    @Test
    void aMappingWhereAValueBelongsNamesTheKey() throws IOException {
      Path f = yaml("vault:\n  address:\n    host: vault\n");
      assertThatThrownBy(() -> OperatorConfig.load(f, env()))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("vault.address");
    }
  }

  @Nested
  class Required {

    @ParameterizedTest(name = "{0} / {1}")
    @CsvSource({"clusterId, VAULTMFA_CLUSTER_ID", "vault.address, VAULT_ADDR"})
    void missingSettingNamesKeyAndVariable(String key, String var) {
      Map<String, String> e = env();
      e.remove(var);
      assertThatThrownBy(() -> load(e))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining(key)
          .hasMessageContaining(var);
    }

    @Test
    void blankCountsAsMissing() {
      assertThatThrownBy(() -> load(env("VAULTMFA_CLUSTER_ID", "  ")))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("clusterId");
    }

    @Test
    void tokenAuthWithoutTokenNamesBothWays() {
      Map<String, String> e = env();
      e.remove("VAULT_TOKEN");
      assertThatThrownBy(() -> load(e))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("VAULT_TOKEN")
          .hasMessageContaining("VAULTMFA_VAULT_TOKEN_FILE");
    }

    @Test
    void kubernetesAuthNeedsNoToken() {
      Map<String, String> e = env("VAULTMFA_VAULT_AUTH", "kubernetes");
      e.remove("VAULT_TOKEN");
      assertThat(load(e).get(Setting.VAULT_AUTH)).isEqualTo("kubernetes");
    }
  }

  @Nested
  class Malformed {

    @ParameterizedTest(name = "resyncInterval [{0}]")
    @ValueSource(strings = {"10", "10x", "1.5h", "-1m", "0s", "10M", "1h 30m", "h"})
    void duration(String v) {
      assertRefused(Setting.RESYNC_INTERVAL, v);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(
        value = Setting.class,
        names = {"RETRY_INITIAL_INTERVAL", "RETRY_MAX_INTERVAL"})
    void retryIntervals(Setting s) {
      assertRefused(s, "0s");
      assertRefused(s, "2 minutes");
    }

    @Test
    void retryCapShorterThanTheFirstWait() {
      Throwable t =
          catchThrowableOfType(
              ConfigException.class,
              () ->
                  load(
                      env(
                          "VAULTMFA_RETRY_INITIAL_INTERVAL",
                          "1m",
                          "VAULTMFA_RETRY_MAX_INTERVAL",
                          "30s")));
      assertThat(t).isNotNull();
      assertThat(t.getMessage())
          .contains("retry.maxInterval")
          .contains("VAULTMFA_RETRY_MAX_INTERVAL")
          .contains("retry.initialInterval");
    }

    @Test
    void durationTooLargeForALong() {
      // 20 digits: Long.parseLong overflows; this must still be a ConfigException.
      assertRefused(Setting.RESYNC_INTERVAL, "99999999999999999999s");
    }

    @ParameterizedTest(name = "concurrency [{0}]")
    @ValueSource(strings = {"0", "-1", "four", "2.5", "99999999999"})
    void concurrency(String v) {
      assertRefused(Setting.CONCURRENCY, v);
    }

    @ParameterizedTest(name = "metrics.port [{0}]")
    @ValueSource(strings = {"-1", "http", "80.5"})
    void port(String v) {
      assertRefused(Setting.METRICS_PORT, v);
    }

    @Test
    void portAboveTcpRange() {
      assertRefused(Setting.METRICS_PORT, "65536");
    }

    @ParameterizedTest(name = "serverSideApply [{0}]")
    @ValueSource(strings = {"yes", "1", "on", "ture"})
    void bool(String v) {
      assertRefused(Setting.SERVER_SIDE_APPLY, v);
    }

    @ParameterizedTest(name = "vault.address [{0}]")
    @ValueSource(
        strings = {
          "vault:8200",
          "vault.example.com",
          "ftp://vault",
          "http://",
          "https://exa mple.com"
        })
    void url(String v) {
      assertRefused(Setting.VAULT_ADDRESS, v);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(
        value = Setting.class,
        names = {"VAULT_PUBLIC_ADDRESS", "AWS_IAM_ENDPOINT", "AWS_STS_ENDPOINT"})
    void optionalUrls(Setting s) {
      assertRefused(s, "localhost:5000");
    }

    @ParameterizedTest(name = "vault.auth [{0}]")
    @ValueSource(strings = {"approle", "Token", "k8s"})
    void authMethod(String v) {
      assertRefused(Setting.VAULT_AUTH, v);
    }

    @ParameterizedTest(name = "vault.totpMount [{0}]")
    @ValueSource(strings = {"/totp", "totp/", "team//totp", "to tp", "totp?x"})
    void mount(String v) {
      assertRefused(Setting.VAULT_TOTP_MOUNT, v);
    }

    @ParameterizedTest(name = "watchNamespaces [{0}]")
    @ValueSource(strings = {"Team-A", "team_a", "team-a,-b", "team a"})
    void namespaceList(String v) {
      assertRefused(Setting.WATCH_NAMESPACES, v);
    }

    @ParameterizedTest(name = "watchNamespaces [{0}]")
    @ValueSource(
        strings = {"team.a", "n234567890123456789012345678901234567890123456789012345678901234"})
    void namespaceNamesAreDnsLabels(String v) {
      // A namespace is an RFC 1123 label: no dots, at most 63 characters.
      assertRefused(Setting.WATCH_NAMESPACES, v);
    }

    @Test
    void aValidNamespaceListIsTrimmedAndDeduplicated() {
      assertThat(
              load(env("VAULTMFA_WATCH_NAMESPACES", " team-b, team-a,,team-b ")).watchNamespaces())
          .isEqualTo(Set.of("team-a", "team-b"));
    }

    void assertRefused(Setting s, String value) {
      Throwable t = catchThrowableOfType(ConfigException.class, () -> load(env(s.env(), value)));
      assertThat(t).as("%s=%s must be refused", s.key(), value).isNotNull();
      assertThat(t.getMessage()).contains(s.key()).contains(s.env());
    }
  }

  @Nested
  class TokenNeverShown {

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({
      "VAULTMFA_CONCURRENCY, zero",
      "VAULTMFA_RESYNC_INTERVAL, soon",
      "VAULT_ADDR, vault",
      "VAULTMFA_VAULT_AUTH, approle",
      "VAULTMFA_TOTP_MOUNT, /totp"
    })
    void notInAnyValidationError(String var, String value) {
      assertThatThrownBy(() -> load(env(var, value)))
          .isInstanceOf(ConfigException.class)
          .message()
          .doesNotContain(TOKEN);
    }

    @Test
    void notWhenTheFileHoldingItIsMalformed() throws IOException {
      Path f = yaml("vault:\n  token: " + TOKEN + "\n  address: [http://vault\n");
      assertThatThrownBy(() -> OperatorConfig.load(f, env()))
          .isInstanceOf(ConfigException.class)
          .message()
          .doesNotContain(TOKEN);
    }

    @Test
    void notWhenTheTokenLineItselfIsMalformed() throws IOException {
      Path f = yaml("clusterId: c\nvault:\n  token: \"" + TOKEN + "\n  address: http://v\n");
      assertThatThrownBy(() -> OperatorConfig.load(f, env()))
          .isInstanceOf(ConfigException.class)
          .message()
          .doesNotContain(TOKEN);
    }

    @Test
    void notWhenTheTokenIsAMapping() throws IOException {
      Path f = yaml("vault:\n  token:\n    value: " + TOKEN + "\n");
      assertThatThrownBy(() -> OperatorConfig.load(f, env()))
          .isInstanceOf(ConfigException.class)
          .message()
          .contains("vault.token")
          .doesNotContain(TOKEN);
    }
  }

  @Nested
  class HighAvailabilityAndLogging {

    @Test
    void defaultsAreOneReplicaWithoutSelectorAndTextLogs() {
      OperatorConfig c = load(env());
      assertThat(c.leaderElection()).isFalse();
      assertThat(c.get(Setting.LEASE_NAME)).isEqualTo("vault-mfa-operator");
      assertThat(c.leaseDuration()).isEqualTo(Duration.ofSeconds(15));
      assertThat(c.labelSelector()).isEmpty();
      assertThat(c.jsonLogs()).isFalse();
    }

    @Test
    void theLeaseNamespaceIsTheSettingElseThePodNamespace() {
      Map<String, String> pod = Map.of("POD_NAMESPACE", "ops", "HOSTNAME", "operator-7d9f-x2");
      assertThat(load(env()).leaseNamespace(pod)).contains("ops");
      assertThat(load(env("VAULTMFA_LEASE_NAMESPACE", "mfa")).leaseNamespace(pod)).contains("mfa");
      assertThat(load(env()).leaseNamespace(Map.of())).isEmpty();
      assertThat(load(env()).leaderIdentity(pod)).contains("operator-7d9f-x2");
      assertThat(load(env("VAULTMFA_LEADER_IDENTITY", "a")).leaderIdentity(pod)).contains("a");
    }

    @ParameterizedTest(name = "labelSelector [{0}]")
    @ValueSource(
        strings = {
          "shard=a",
          "shard==a,team!=payments",
          "vaultmfa.io/shard in (a, b),!legacy",
          "app.kubernetes.io/part-of notin (x),tier",
          "shard="
        })
    void labelSelectorsKubernetesAccepts(String v) {
      assertThat(load(env("VAULTMFA_LABEL_SELECTOR", v)).labelSelector()).contains(v);
    }

    @ParameterizedTest(name = "labelSelector [{0}]")
    @ValueSource(
        strings = {
          "shard=a b",
          "shard in a,b",
          "=a",
          "shard=a,,",
          "sh ard=a",
          "a=(b)",
          "shard in (a",
          "shard in (a,b",
          "shard in a)",
          "shard=a)"
        })
    void labelSelectorTyposAreRefused(String v) {
      Throwable t =
          catchThrowableOfType(
              ConfigException.class, () -> load(env("VAULTMFA_LABEL_SELECTOR", v)));
      assertThat(t).as("%s must be refused", v).isNotNull();
      assertThat(t.getMessage()).contains("labelSelector").contains("VAULTMFA_LABEL_SELECTOR");
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({
      "VAULTMFA_LEADER_ELECTION, yes",
      "VAULTMFA_LEASE_NAME, Vault_MFA",
      "VAULTMFA_LEASE_NAMESPACE, Ops",
      "VAULTMFA_LEASE_DURATION, 1s",
      "VAULTMFA_LEASE_DURATION, 15",
      "VAULTMFA_LOG_FORMAT, logfmt",
      "VAULTMFA_LOG_FORMAT, JSON"
    })
    void malformed(String var, String value) {
      Setting s =
          java.util.Arrays.stream(Setting.values())
              .filter(x -> x.env().equals(var))
              .findFirst()
              .orElseThrow();
      Throwable t = catchThrowableOfType(ConfigException.class, () -> load(env(var, value)));
      assertThat(t).as("%s=%s must be refused", var, value).isNotNull();
      assertThat(t.getMessage()).contains(s.key()).contains(var);
    }

    @Test
    void jsonLogsFromTheFile() throws IOException {
      Path f = yaml("logging:\n  format: json\nleaderElection:\n  enabled: true\n");
      OperatorConfig c = OperatorConfig.load(f, env());
      assertThat(c.jsonLogs()).isTrue();
      assertThat(c.leaderElection()).isTrue();
    }
  }

  @Nested
  class ExampleFile {

    @Test
    void configOperatorYamlHasEverySettingAtItsDefault() throws IOException {
      Path example = Path.of(System.getProperty("basedir", ".")).resolve("config/operator.yaml");
      String text = Files.readString(example);
      OperatorConfig c = OperatorConfig.load(example, env());
      for (Setting s : Setting.values()) {
        assertThat(text).as("config/operator.yaml names %s", s.env()).contains(s.env());
        if (s.defaultValue() != null && s != Setting.VAULT_TOKEN) {
          assertThat(c.get(s))
              .as("%s in config/operator.yaml", s.key())
              .isEqualTo(s.defaultValue());
        }
      }
    }
  }
}
