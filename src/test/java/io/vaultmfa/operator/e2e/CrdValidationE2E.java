package io.vaultmfa.operator.e2e;

import static io.vaultmfa.operator.e2e.ClusterSetup.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.vaultmfa.operator.testing.KubeControlPlane;
import io.vaultmfa.operator.testing.KubeControlPlane.Result;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CRD on a real kube-apiserver: it is accepted and Established, its OpenAPI schema and CEL
 * rules refuse bad bindings at {@code kubectl apply} with a message naming the field, and the
 * immutable names cannot be changed. No operator runs here.
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

  static Stream<Arguments> badBindings() {
    String longName = "a".repeat(65);
    return Stream.of(
        Arguments.of("user-space", "{iamUser: {name: \"ci deployer\"}}", "spec.iamUser.name"),
        Arguments.of("user-65", "{iamUser: {name: " + longName + "}}", "spec.iamUser.name"),
        Arguments.of("user-cyrillic", "{iamUser: {name: \"\u0430dmin\"}}", "spec.iamUser.name"),
        Arguments.of("user-empty", "{iamUser: {name: \"\"}}", "spec.iamUser.name"),
        Arguments.of("missing-user", "{vault: {keyName: aws}}", "spec.iamUser"),
        Arguments.of(
            "key-slash", "{iamUser: {name: ci}, vault: {keyName: team/aws}}", "spec.vault.keyName"),
        Arguments.of(
            "key-plus", "{iamUser: {name: ci}, vault: {keyName: svc+ops}}", "spec.vault.keyName"),
        Arguments.of(
            "key-empty", "{iamUser: {name: ci}, vault: {keyName: \"\"}}", "spec.vault.keyName"),
        Arguments.of(
            "key-129",
            "{iamUser: {name: ci}, vault: {keyName: " + "k".repeat(129) + "}}",
            "spec.vault.keyName"),
        Arguments.of(
            "mount-dotdot",
            "{iamUser: {name: ci}, vault: {mount: \"../sys\"}}",
            "spec.vault.mount"),
        Arguments.of(
            "policy-orphan",
            "{iamUser: {name: ci}, deletionPolicy: Orphan}",
            "spec.deletionPolicy"),
        Arguments.of(
            "policy-arn",
            "{iamUser: {name: ci, managedPolicyArns: [\"AdministratorAccess\"]}}",
            "spec.iamUser.managedPolicyArns[0]"),
        Arguments.of(
            "role-arn-user",
            "{iamUser: {name: ci}, aws: {roleArn: \"arn:aws:iam::123456789012:user/ci\"}}",
            "spec.aws.roleArn"),
        Arguments.of(
            "reserved-tag",
            "{iamUser: {name: ci, tags: {\"vaultmfa.io/binding\": x}}}",
            "spec.iamUser.tags"),
        Arguments.of("user-path", "{iamUser: {name: ci, path: \"ci\"}}", "spec.iamUser.path"),
        Arguments.of(
            "secret-upper", "{iamUser: {name: ci}, secretName: \"Aws_MFA\"}", "spec.secretName"),
        Arguments.of(
            "rotation-interval",
            "{iamUser: {name: ci}, rotation: {interval: \"3 months\"}}",
            "spec.rotation.interval"));
  }

  @ParameterizedTest(name = "{0} is refused naming {2}")
  @MethodSource("badBindings")
  void badBindingIsRefusedNamingTheField(String name, String spec, String field) {
    Result r = apply(name, spec);

    assertThat(r.exitCode()).as("kubectl apply of %s must fail, said:%n%s", name, r).isNotZero();
    assertThat(r.output())
        .as("the API server's refusal names the field")
        .contains("AwsMfaBinding \"" + name + "\" is invalid")
        .contains(field + ":");
    Result get =
        cp.kubectl("get", "awsmfabinding", name, "-n", NS, "--ignore-not-found", "-o", "name");
    assertThat(ok(get, "get " + name).trim()).as("nothing stored for %s", name).isEmpty();
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
