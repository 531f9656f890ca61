package io.vaultmfa.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.vaultmfa.operator.config.OperatorConfig;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.testing.Command;
import io.vaultmfa.operator.testing.Helm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Helm chart in {@code charts/vault-mfa-operator}: it lints, refuses a release without the
 * required settings by name, and renders what {@code deploy/} renders, so that the two ways of
 * installing cannot drift apart.
 */
class HelmChartTest {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Path REPO = Path.of(System.getProperty("basedir", "."));

  /** Labels the chart adds to deploy/'s: which release, which chart and who manages it. */
  private static final Set<String> RELEASE_LABELS =
      Set.of(
          "app.kubernetes.io/instance",
          "app.kubernetes.io/version",
          "app.kubernetes.io/managed-by",
          "helm.sh/chart");

  @Test
  void lintsCleanInStrictMode() {
    Command.Result r = Helm.run(args("lint", "--strict", Helm.CHART));
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("0 chart(s) failed");
  }

  @Test
  void aReleaseWithoutClusterIdOrVaultAddressIsRefusedNamingTheValue() {
    Command.Result none = Helm.run(List.of("template", "vault-mfa-operator", Helm.CHART));
    assertThat(none.exitCode()).isNotZero();
    assertThat(none.output()).contains("/config/clusterId").contains("/config/vault/address");

    Command.Result badAddress = templateWith("prod-eu-1", "vault.example.com");
    assertThat(badAddress.exitCode()).isNotZero();
    assertThat(badAddress.output()).contains("/config/vault/address").contains("pattern");
  }

  @Test
  void aTypoInAValueIsRefusedRatherThanIgnored() {
    Command.Result r = templateSetting("replicas=3");
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.output()).contains("replicas");
  }

  @Test
  void rendersTheSameObjectsAsDeployExceptTheNamespaceAndTheReleaseLabels() throws Exception {
    Map<String, JsonNode> chart = byKindAndName(render("vault-mfa-operator"));
    Map<String, JsonNode> base = byKindAndName(kustomize());
    JsonNode namespace = base.remove("Namespace/vault-mfa-operator");
    assertThat(namespace).as("deploy/ creates the namespace").isNotNull();

    // The ConfigMap: the same settings, with the two deploy/ leaves empty filled in.
    Map<String, Object> chartConfig =
        operatorYaml(chart.get("ConfigMap/vault-mfa-operator-config"));
    Map<String, Object> baseConfig = operatorYaml(base.get("ConfigMap/vault-mfa-operator-config"));
    baseConfig.put("clusterId", "prod-eu-1");
    @SuppressWarnings("unchecked")
    Map<String, Object> vault = (Map<String, Object>) baseConfig.get("vault");
    vault.put("address", "https://vault.example.com:8200");
    assertThat(chartConfig).isEqualTo(baseConfig);

    chart.values().forEach(HelmChartTest::withoutReleaseParts);
    base.values().forEach(HelmChartTest::withoutReleaseParts);
    assertThat(chart.keySet()).isEqualTo(base.keySet());
    for (String key : base.keySet()) {
      assertThat(chart.get(key)).as(key).isEqualTo(base.get(key));
    }
  }

  @Test
  void twoReleasesInOneNamespaceShareNoNameLeaseOrPods() throws Exception {
    List<JsonNode> a = render("shard-a");
    List<JsonNode> b = render("shard-b");
    Set<String> namesA = byKindAndName(a).keySet();
    Set<String> namesB = byKindAndName(b).keySet();
    assertThat(namesA).doesNotContainAnyElementsOf(namesB);

    JsonNode configMap = one(a, "ConfigMap");
    Map<String, Object> config = operatorYaml(configMap);
    assertThat(config.get("leaderElection"))
        .isEqualTo(Map.of("leaseName", "shard-a-vault-mfa-operator"));

    JsonNode selector = one(a, "Deployment").at("/spec/selector/matchLabels");
    assertThat(selector.path("app.kubernetes.io/instance").asText()).isEqualTo("shard-a");
    assertThat(one(a, "PodDisruptionBudget").at("/spec/selector/matchLabels")).isEqualTo(selector);
    assertThat(one(a, "Service").at("/spec/selector")).isEqualTo(selector);
  }

  @Test
  void theValuesSchemaListsEveryOperatorSettingButTheChartsOwn() throws Exception {
    JsonNode config =
        YAML.readTree(REPO.resolve(Helm.CHART).resolve("values.schema.json").toFile())
            .at("/properties/config");
    Set<String> inSchema = new TreeSet<>();
    schemaKeys(config, "", inSchema);
    Set<String> settings =
        Arrays.stream(Setting.values())
            .map(Setting::key)
            .collect(Collectors.toCollection(TreeSet::new));
    // Set by the chart itself (env, Role) or not to be kept in a ConfigMap.
    settings.removeAll(
        Set.of("leaderElection.enabled", "leaderElection.leaseNamespace", "vault.token"));
    assertThat(inSchema).isEqualTo(settings);
  }

  @Test
  void aTypoOrABadValueInsideConfigIsRefusedByName() {
    Map<String, String> cases =
        Map.of(
            "config.vault.adress=https://vault.example.com", "adress",
            "config.clusterID=prod-eu-1", "clusterID",
            "config.metrics.port=0", "/config/metrics/port",
            "config.logging.format=xml", "/config/logging/format",
            "config.vault.auth=approle", "/config/vault/auth",
            "config.resyncInterval=10 minutes", "/config/resyncInterval",
            "config.concurrency=0", "/config/concurrency",
            "config.leaderElection.leaseNamespace=kube-system", "leaseNamespace",
            "config.vault.token=hvs.secret", "token");
    cases.forEach(
        (set, named) -> {
          Command.Result r = templateSetting(set);
          assertThat(r.exitCode()).as("%s: %s", set, r.output()).isNotZero();
          assertThat(r.output()).as(set).contains(named);
        });
    // A cluster id of digits is a number to --set: it needs --set-string.
    Command.Result numericId = templateWith("42", "https://vault.example.com:8200");
    assertThat(numericId.exitCode()).isNotZero();
    assertThat(numericId.output()).contains("/config/clusterId");
  }

  @Test
  void aLongReleaseNameKeepsEveryNameAndLabelWithin63Characters() throws Exception {
    String release = "a".repeat(30) + "-" + "b".repeat(22); // 53: Helm's longest release name
    List<JsonNode> docs = render(release);
    assertThat(byKindAndName(docs)).hasSize(byKindAndName(render("vault-mfa-operator")).size());
    for (JsonNode d : docs) {
      String what = d.path("kind").asText() + "/" + d.at("/metadata/name").asText();
      assertThat(d.at("/metadata/name").asText().length()).as(what).isLessThanOrEqualTo(63);
      d.at("/metadata/labels")
          .fields()
          .forEachRemaining(
              l -> assertThat(l.getValue().asText().length()).as(what).isLessThanOrEqualTo(63));
    }
  }

  @Test
  void podLabelsAnnotationsAndEnvCannotTakeOverWhatTheChartSets() throws Exception {
    JsonNode d =
        one(
            render(
                "shard-a",
                "--set",
                "podLabels.app\\.kubernetes\\.io/instance=other",
                "--set",
                "podLabels.team=platform",
                "--set",
                "podAnnotations.checksum/config=stale",
                "--set",
                "podAnnotations.example\\.com/owner=platform"),
            "Deployment");
    JsonNode meta = d.at("/spec/template/metadata");
    assertThat(meta.at("/labels").path("app.kubernetes.io/instance").asText()).isEqualTo("shard-a");
    assertThat(meta.at("/labels").path("team").asText()).isEqualTo("platform");
    assertThat(meta.at("/annotations").path("checksum/config").asText()).hasSize(64);
    assertThat(meta.at("/annotations").path("example.com/owner").asText()).isEqualTo("platform");

    Map<String, String> reserved =
        Map.of(
            "JAVA_TOOL_OPTIONS", "javaToolOptions",
            "VAULTMFA_METRICS_PORT", "config.metrics.port",
            "VAULTMFA_LEASE_NAMESPACE", "release namespace");
    reserved.forEach(
        (name, instead) -> {
          Command.Result r = templateSetting("env[0].name=" + name, "env[0].value=1");
          assertThat(r.exitCode()).as(name).isNotZero();
          assertThat(r.output())
              .contains("env: " + name + " is reserved by the chart")
              .contains(instead);
        });

    Command.Result number = templateSetting("podLabels.tier=1");
    assertThat(number.exitCode()).isNotZero();
    assertThat(number.output()).contains("/podLabels/tier");
  }

  @Test
  void aSingleReplicaGetsNoDisruptionBudgetThatWouldBlockDrains() throws Exception {
    List<JsonNode> one = render("vault-mfa-operator", "--set", "replicaCount=1");
    assertThat(one).noneMatch(d -> d.path("kind").asText().equals("PodDisruptionBudget"));
    assertThat(render("vault-mfa-operator"))
        .anyMatch(d -> d.path("kind").asText().equals("PodDisruptionBudget"));
  }

  @Test
  void changedSettingsRollThePods() throws Exception {
    JsonNode before = one(render("vault-mfa-operator"), "Deployment");
    JsonNode after =
        one(render("vault-mfa-operator", "--set", "config.resyncInterval=5m"), "Deployment");
    String path = "/spec/template/metadata/annotations/checksum~1config";
    assertThat(before.at(path).asText()).isNotEmpty().isNotEqualTo(after.at(path).asText());
  }

  @Test
  void valuesReachThePod() throws Exception {
    JsonNode d =
        one(
            render(
                "vault-mfa-operator",
                "--set",
                "image.repository=registry.example.com/vault-mfa-operator",
                "--set",
                "image.tag=0.1.1",
                "--set",
                "replicaCount=3",
                "--set",
                "config.metrics.port=9090",
                "--set",
                "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::123456789012:role/mfa"),
            "Deployment");
    JsonNode c = d.at("/spec/template/spec/containers/0");
    assertThat(c.path("image").asText()).isEqualTo("registry.example.com/vault-mfa-operator:0.1.1");
    assertThat(d.at("/spec/replicas").asInt()).isEqualTo(3);
    assertThat(c.at("/ports/0/containerPort").asInt()).isEqualTo(9090);

    JsonNode sa =
        one(
            render(
                "vault-mfa-operator",
                "--set",
                "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::123456789012:role/mfa"),
            "ServiceAccount");
    assertThat(sa.at("/metadata/annotations").path("eks.amazonaws.com/role-arn").asText())
        .isEqualTo("arn:aws:iam::123456789012:role/mfa");
  }

  @Test
  void theSettingsThatReachTheOperatorAreOnesItAccepts(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("operator.yaml");
    Files.writeString(
        file, one(render("vault-mfa-operator"), "ConfigMap").at("/data/operator.yaml").asText());
    OperatorConfig c = OperatorConfig.load(Map.of("VAULTMFA_CONFIG", file.toString()));
    assertThat(c.clusterId()).isEqualTo("prod-eu-1");
    assertThat(c.publicVaultAddress()).isEqualTo("https://vault.example.com:8200");
  }

  @Test
  void theChartCarriesTheCrdOfCrdsUnchanged() throws Exception {
    try (Stream<Path> files = Files.list(REPO.resolve("crds"))) {
      List<Path> crds = files.sorted().toList();
      assertThat(crds).isNotEmpty();
      for (Path crd : crds) {
        Path copy = REPO.resolve(Helm.CHART).resolve("crds").resolve(crd.getFileName());
        assertThat(copy).as("%s in the chart", crd.getFileName()).exists();
        assertThat(Files.readAllBytes(copy))
            .as("%s: copy crds/ into %s/crds/", crd.getFileName(), Helm.CHART)
            .isEqualTo(Files.readAllBytes(crd));
      }
    }
    try (Stream<Path> files = Files.list(REPO.resolve(Helm.CHART).resolve("crds"))) {
      assertThat(files.map(p -> p.getFileName().toString()).collect(Collectors.toSet()))
          .as("nothing in the chart's crds/ that crds/ lacks")
          .allSatisfy(name -> assertThat(REPO.resolve("crds").resolve(name)).exists());
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static List<String> args(String... parts) {
    List<String> all = new ArrayList<>(List.of(parts));
    all.addAll(Helm.REQUIRED);
    return all;
  }

  /** {@code helm template vault-mfa-operator} with the required settings and {@code --set}s. */
  private static Command.Result templateSetting(String... sets) {
    List<String> a = new ArrayList<>(List.of("template", "vault-mfa-operator", Helm.CHART));
    for (String s : sets) {
      a.add("--set");
      a.add(s);
    }
    a.addAll(Helm.REQUIRED);
    return Helm.run(a);
  }

  /** {@code helm template} with the two required settings given as {@code --set}. */
  private static Command.Result templateWith(String clusterId, String vaultAddress) {
    return Helm.run(
        List.of(
            "template",
            "vault-mfa-operator",
            Helm.CHART,
            "--set",
            "config.clusterId=" + clusterId,
            "--set",
            "config.vault.address=" + vaultAddress));
  }

  /** {@code helm template <release> --namespace vault-mfa-operator} with the required values. */
  static List<JsonNode> render(String release, String... extra) throws Exception {
    List<String> a = args("template", release, Helm.CHART, "--namespace", "vault-mfa-operator");
    a.addAll(List.of(extra));
    Command.Result r = Helm.run(a);
    assertThat(r.exitCode()).as("helm %s:%n%s", a, r.output()).isZero();
    return documents(r.output());
  }

  private static List<JsonNode> kustomize() throws Exception {
    Process p =
        new ProcessBuilder("kubectl", "kustomize", REPO.resolve("deploy").toString())
            .redirectErrorStream(true)
            .start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("kubectl kustomize deploy/: %s", out).isZero();
    return documents(out);
  }

  private static List<JsonNode> documents(String yaml) throws Exception {
    List<JsonNode> docs = new ArrayList<>();
    try (YAMLParser parser = (YAMLParser) YAML.getFactory().createParser(yaml)) {
      Iterator<JsonNode> it = YAML.readValues(parser, JsonNode.class);
      while (it.hasNext()) {
        JsonNode doc = it.next();
        if (doc != null && doc.isObject() && doc.has("kind")) {
          docs.add(doc);
        }
      }
    }
    return docs;
  }

  private static Map<String, JsonNode> byKindAndName(List<JsonNode> docs) {
    Map<String, JsonNode> map = new TreeMap<>();
    for (JsonNode d : docs) {
      String key = d.path("kind").asText() + "/" + d.at("/metadata/name").asText();
      assertThat(map.put(key, d)).as("%s twice", key).isNull();
    }
    return map;
  }

  private static JsonNode one(List<JsonNode> docs, String kind) {
    List<JsonNode> found = docs.stream().filter(d -> d.path("kind").asText().equals(kind)).toList();
    assertThat(found).as(kind).hasSize(1);
    return found.get(0);
  }

  /** The dotted keys of the leaves of a values schema's object. */
  private static void schemaKeys(JsonNode schema, String prefix, Set<String> into) {
    JsonNode props = schema.path("properties");
    if (!props.isObject() || props.isEmpty()) {
      into.add(prefix);
      return;
    }
    props
        .fields()
        .forEachRemaining(
            f ->
                schemaKeys(
                    f.getValue(), prefix.isEmpty() ? f.getKey() : prefix + "." + f.getKey(), into));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> operatorYaml(JsonNode configMap) throws Exception {
    assertThat(configMap).isNotNull();
    return YAML.readValue(configMap.at("/data/operator.yaml").asText(), TreeMap.class);
  }

  /**
   * Drops what only a Helm release has: its labels (also in selectors), the pod annotation that
   * rolls the pods when the settings change, and the ConfigMap's text (compared as settings).
   */
  private static void withoutReleaseParts(JsonNode node) {
    if (node.isObject()) {
      ObjectNode o = (ObjectNode) node;
      for (String field : List.of("labels", "matchLabels", "selector")) {
        if (o.path(field).isObject()) {
          ((ObjectNode) o.get(field)).remove(RELEASE_LABELS);
        }
      }
      if (o.path("annotations").isObject()) {
        ObjectNode annotations = (ObjectNode) o.get("annotations");
        annotations.remove("checksum/config");
        if (annotations.isEmpty()) {
          o.remove("annotations");
        }
      }
      if ("ConfigMap".equals(o.path("kind").asText())) {
        o.remove("data");
      }
      o.elements().forEachRemaining(HelmChartTest::withoutReleaseParts);
    } else if (node.isArray()) {
      node.elements().forEachRemaining(HelmChartTest::withoutReleaseParts);
    }
  }
}
