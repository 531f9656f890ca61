package io.vaultmfa.operator.e2e;

import static io.vaultmfa.operator.e2e.ClusterSetup.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.vaultmfa.operator.testing.BadSpecs;
import io.vaultmfa.operator.testing.BadSpecs.Bad;
import io.vaultmfa.operator.testing.KubeControlPlane;
import io.vaultmfa.operator.testing.KubeControlPlane.Result;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CRD on a real kube-apiserver: it is accepted and Established, its OpenAPI schema and CEL
 * rules refuse every bad binding of {@link BadSpecs} at {@code kubectl apply} with a message naming
 * the field and the rule, and the immutable names cannot be changed. No operator runs here.
 */
@ExtendWith(SharedControlPlane.class)
class CrdValidationE2E {

  private static final String NS = "crd-validation";
  private static KubeControlPlane cp;

  @BeforeAll
  static void useControlPlane() {
    cp = SharedControlPlane.get();
    ok(cp.kubectl("create", "namespace", NS), "namespace " + NS);
  }

  @AfterAll
  static void removeNamespace() {
    if (cp != null) {
      cp.kubectl("delete", "namespace", NS, "--wait=false");
    }
  }

  private static String manifest(String name, String spec) {
    return String.join(
        "\n",
        "apiVersion: vaultmfa.io/v1alpha1",
        "kind: AwsMfaBinding",
        "metadata: {name: " + name + ", namespace: " + NS + "}",
        "spec: " + spec,
        "");
  }

  private static Result apply(String name, String spec) {
    return cp.kubectlWithInput(manifest(name, spec), "apply", "-f", "-");
  }

  @Test
  void crdIsEstablishedWithItsNamesAndAValidBindingIsAcceptedWithDefaults() {
    String names =
        ok(
            cp.kubectl("api-resources", "--api-group=vaultmfa.io", "--no-headers"),
            "kubectl api-resources");
    assertThat(names).contains("awsmfabindings").contains("mfab,mfabinding").contains("true");

    ok(
        apply("valid", "{iamUser: {name: ci-deployer}, vault: {keyName: team-a.ci}}"),
        "a valid binding is accepted");
    String defaults =
        ok(
            cp.kubectl(
                "get",
                "mfab",
                "valid",
                "-n",
                NS,
                "-o",
                "jsonpath={.spec.deletionPolicy} {.spec.iamUser.create} {.spec.iamUser.path}"),
            "read back through the short name");
    assertThat(defaults.trim()).isEqualTo("Delete true /");
    ok(cp.kubectl("delete", "mfab", "valid", "-n", NS), "delete (no finalizer: no operator runs)");
  }

  /**
   * The whole corpus of {@link BadSpecs} in one {@code kubectl apply}: kubectl goes on after a
   * refusal and prints one line per refused object, so each case reads its own line.
   */
  private static Map<String, String> refusals() {
    if (corpusRefusals == null) {
      String manifests =
          BadSpecs.all().map(b -> b.manifest(NS)).collect(Collectors.joining("---\n"));
      Result r = cp.kubectlWithInput(manifests, "apply", "-f", "-");
      assertThat(r.exitCode()).as("kubectl apply of the bad corpus must fail").isNotZero();
      Map<String, String> m = new HashMap<>();
      Matcher line = REFUSAL.matcher(r.output());
      while (line.find()) {
        m.put(line.group(1), line.group());
      }
      corpusRefusals = m;
      corpusOutput = r.output();
      writeLog("crd-validation-corpus.txt", corpusOutput);
      corpusStored =
          ok(cp.kubectl("get", "awsmfabindings", "-n", NS, "-o", "name"), "list bindings");
    }
    return corpusRefusals;
  }

  private static final Pattern REFUSAL =
      Pattern.compile("(?m)^.*AwsMfaBinding\\S* \"([a-z0-9-]+)\" is invalid: .*$");
  private static Map<String, String> corpusRefusals;
  private static String corpusOutput;
  private static String corpusStored;

  @ParameterizedTest(name = "{0} is refused naming {2}")
  @MethodSource("io.vaultmfa.operator.testing.BadSpecs#all")
  void badBindingIsRefusedNamingTheFieldAndTheRule(Bad bad) {
    String refusal = refusals().get(bad.name());
    assertThat(refusal)
        .as("the API server refuses %s; kubectl said:%n%s", bad.name(), corpusOutput)
        .isNotNull();
    assertThat(refusal)
        .as("the refusal names the field and the rule")
        .contains(bad.field())
        .contains(bad.apiSays());
    assertThat(corpusStored.lines())
        .as("nothing stored for %s", bad.name())
        .doesNotContain("awsmfabinding.vaultmfa.io/" + bad.name());
  }

  /** What kubectl said, kept in target/it-logs for a person to read the messages. */
  private static void writeLog(String name, String text) {
    try {
      java.nio.file.Path dir = java.nio.file.Path.of("target", "it-logs");
      java.nio.file.Files.createDirectories(dir);
      java.nio.file.Files.writeString(dir.resolve(name), text);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void immutableNamesCannotBeChanged() {
    String original =
        "{iamUser: {name: ci-deployer}, mfaDevice: {name: ci-device}, vault: {keyName: ci}}";
    ok(apply("immutable", original), "the original binding is accepted");

    Result rename =
        apply(
            "immutable",
            "{iamUser: {name: ci-deployer-2}, mfaDevice: {name: ci-device}, vault: {keyName: ci}}");
    assertThat(rename.exitCode()).as("renaming the IAM user: %s", rename).isNotZero();
    assertThat(rename.output()).contains("spec.iamUser.name").contains("immutable");

    Result rekey =
        apply(
            "immutable",
            "{iamUser: {name: ci-deployer}, mfaDevice: {name: ci-device}, vault: {keyName: ci2}}");
    assertThat(rekey.exitCode()).as("changing the Vault key: %s", rekey).isNotZero();
    assertThat(rekey.output()).contains("spec.vault.keyName").contains("immutable");

    Result device =
        apply(
            "immutable",
            "{iamUser: {name: ci-deployer}, mfaDevice: {name: other}, vault: {keyName: ci}}");
    assertThat(device.exitCode()).as("renaming the device: %s", device).isNotZero();
    assertThat(device.output()).contains("spec.mfaDevice.name").contains("immutable");

    String stored =
        ok(
            cp.kubectl(
                "get",
                "awsmfabinding",
                "immutable",
                "-n",
                NS,
                "-o",
                "jsonpath={.spec.iamUser.name} {.spec.vault.keyName} {.spec.mfaDevice.name}"),
            "read back");
    assertThat(stored.trim()).isEqualTo("ci-deployer ci ci-device");

    // A mutable field still changes.
    ok(
        apply(
            "immutable",
            "{iamUser: {name: ci-deployer}, mfaDevice: {name: ci-device}, vault: {keyName: ci},"
                + " secretName: ci-codes}"),
        "secretName is mutable");
    ok(cp.kubectl("delete", "awsmfabinding", "immutable", "-n", NS), "delete");
  }
}
