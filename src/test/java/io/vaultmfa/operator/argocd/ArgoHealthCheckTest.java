package io.vaultmfa.operator.argocd;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vaultmfa.operator.api.Reason;
import io.vaultmfa.operator.argocd.ArgoHealthCheck.Health;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Argo CD health check in Lua 5.1, on bindings captured from runs of the operator ({@code
 * ArgoHealthIT} writes them to src/test/resources/argocd/), and on the Ready object with each
 * reason of the closed set put on its Ready condition, so a reason added later is classified too.
 */
class ArgoHealthCheckTest {

  private static final Path FIXTURES = Path.of("src/test/resources/argocd");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What Argo CD shows for each captured binding: status and the start of the message. */
  private static final Map<String, String[]> EXPECTED =
      Map.ofEntries(
          Map.entry("ready", new String[] {"Healthy", "Ready: MFA device enabled"}),
          Map.entry(
              "no-status",
              new String[] {
                "Progressing", "Waiting for the operator to report the binding's status"
              }),
          Map.entry(
              "generation-not-observed",
              new String[] {"Progressing", "Waiting for the operator to reconcile generation 2"}),
          Map.entry("being-deleted", new String[] {"Progressing", "Being deleted: "}),
          Map.entry("throttled", new String[] {"Progressing", "Throttled: "}),
          Map.entry("invalid-spec", new String[] {"Degraded", "InvalidSpec: spec.iamUser"}),
          Map.entry("user-not-found", new String[] {"Degraded", "UserNotFound: IAM user"}),
          Map.entry("conflict", new String[] {"Degraded", "Conflict: Secret conflict-mfa"}),
          Map.entry("access-denied", new String[] {"Degraded", "AccessDenied: "}),
          Map.entry("aws-error", new String[] {"Degraded", "AwsError: "}),
          Map.entry("limit-exceeded", new String[] {"Degraded", "LimitExceeded: "}),
          Map.entry("invalid-codes", new String[] {"Degraded", "InvalidCodes: "}),
          Map.entry("vault-denied", new String[] {"Degraded", "VaultDenied: "}),
          Map.entry("vault-unavailable", new String[] {"Degraded", "VaultUnavailable: "}),
          Map.entry("vault-rejected", new String[] {"Degraded", "VaultRejected: "}));

  /** Ready False with these reasons means "on its way", not "needs a person". */
  private static final Set<Reason> PROGRESSING =
      Set.of(
          Reason.Reconciling,
          Reason.WaitingForUser,
          Reason.WaitingForDevice,
          Reason.Deleting,
          Reason.Throttled);

  static Stream<String> fixtures() throws IOException {
    try (Stream<Path> files = Files.list(FIXTURES)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".json"))
          .map(n -> n.substring(0, n.length() - ".json".length()))
          .sorted()
          .toList()
          .stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void capturedBinding(String fixture) throws Exception {
    String[] expected = EXPECTED.get(fixture);
    assertThat(expected).as("expected health of fixture %s", fixture).isNotNull();

    Health health = ArgoHealthCheck.of(fixture(fixture));

    assertThat(health.status()).as("status (%s)", health).isEqualTo(expected[0]);
    assertThat(health.message()).startsWith(expected[1]);
  }

  @Test
  void everyExpectationHasACapturedBinding() throws Exception {
    Set<String> captured = new TreeSet<>(fixtures().toList());

    assertThat(captured).containsExactlyInAnyOrderElementsOf(EXPECTED.keySet());
  }

  @ParameterizedTest(name = "Ready False {0}")
  @EnumSource(Reason.class)
  void readyFalseWithEachReason(Reason reason) throws Exception {
    ObjectNode b = withReady("False", reason.name(), "what the operator says");

    Health health = ArgoHealthCheck.of(b);

    assertThat(health.status())
        .isEqualTo(PROGRESSING.contains(reason) ? "Progressing" : "Degraded");
    assertThat(health.message()).isEqualTo(reason.name() + ": what the operator says");
  }

  @Test
  void readyUnknownIsProgressing() throws Exception {
    Health health =
        ArgoHealthCheck.of(
            withReady("Unknown", "Reconciling", "UserReady has not been checked yet"));

    assertThat(health)
        .isEqualTo(new Health("Progressing", "Reconciling: UserReady has not been checked yet"));
  }

  @Test
  void aReasonOfANewerOperatorIsDegradedWithItsMessage() throws Exception {
    Health health = ArgoHealthCheck.of(withReady("False", "SomethingNew", "details"));

    assertThat(health).isEqualTo(new Health("Degraded", "SomethingNew: details"));
  }

  @Test
  void readyOfAnOlderGenerationIsProgressing() throws Exception {
    ObjectNode b = (ObjectNode) fixture("ready");
    ((ObjectNode) b.path("status").path("conditions").get(0)).put("observedGeneration", 0);

    assertThat(ArgoHealthCheck.of(b).status()).isEqualTo("Progressing");
  }

  @Test
  void messagesSurviveQuotesBackslashesAndNonAscii() throws Exception {
    Health health = ArgoHealthCheck.of(withReady("False", "Conflict", "key \"a\\b\" of Jörg"));

    assertThat(health.message()).isEqualTo("Conflict: key \"a\\b\" of Jörg");
  }

  @Test
  void argoCdConfigMapPatchCarriesTheScriptVerbatim() throws Exception {
    JsonNode patch =
        new ObjectMapper(new YAMLFactory())
            .readTree(Path.of("config/argocd/argocd-cm-patch.yaml").toFile());

    assertThat(patch.path("metadata").path("name").asText()).isEqualTo("argocd-cm");
    assertThat(
            patch
                .path("data")
                .path("resource.customizations.health.vaultmfa.io_AwsMfaBinding")
                .asText())
        .as("the Lua in argocd-cm-patch.yaml, against %s", ArgoHealthCheck.SCRIPT)
        .isEqualTo(ArgoHealthCheck.script());
  }

  @Test
  void applicationInstallsTheCrdAndTheDeployKustomization() throws Exception {
    JsonNode app =
        new ObjectMapper(new YAMLFactory())
            .readTree(Path.of("config/argocd/application.yaml").toFile());
    JsonNode kustomization =
        new ObjectMapper(new YAMLFactory()).readTree(Path.of("deploy/kustomization.yaml").toFile());

    assertThat(app.path("kind").asText()).isEqualTo("Application");
    assertThat(app.path("spec").path("sources").findValuesAsText("path"))
        .containsExactly("crds", "deploy");
    for (String path : app.path("spec").path("sources").findValuesAsText("path")) {
      assertThat(Path.of(path)).isDirectory();
    }
    assertThat(app.path("spec").path("destination").path("namespace").asText())
        .isEqualTo(kustomization.path("namespace").asText());
  }

  /** The captured Ready binding with its Ready condition replaced. */
  private static ObjectNode withReady(String status, String reason, String message)
      throws Exception {
    ObjectNode b = (ObjectNode) fixture("ready");
    ArrayNode conditions = (ArrayNode) b.path("status").path("conditions");
    for (JsonNode c : conditions) {
      if (c.path("type").asText().equals("Ready")) {
        ((ObjectNode) c).put("status", status).put("reason", reason).put("message", message);
      }
    }
    return b;
  }

  private static JsonNode fixture(String name) throws IOException {
    return JSON.readTree(FIXTURES.resolve(name + ".json").toFile());
  }
}
