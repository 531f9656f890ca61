package io.vaultmfa.operator.e2e;

import static io.vaultmfa.operator.e2e.ClusterSetup.OPERATOR_NAMESPACE;
import static io.vaultmfa.operator.e2e.ClusterSetup.OPERATOR_USER;
import static io.vaultmfa.operator.e2e.ClusterSetup.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.vaultmfa.operator.testing.KubeControlPlane;
import io.vaultmfa.operator.testing.KubeControlPlane.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ClusterRole of {@code deploy/} on a real API server: the operator's ServiceAccount may do
 * what the operator does and nothing from a list of things it must not. (That it is enough is
 * proven by {@link OperatorE2E}, which runs the operator with only this ServiceAccount's token.)
 */
@ExtendWith(SharedControlPlane.class)
class RbacE2E {

  private static KubeControlPlane cp;

  @BeforeAll
  static void useControlPlane() {
    cp = SharedControlPlane.get();
  }

  /** verb, resource (with group), optional {@code --subresource}, namespace or empty. */
  record Access(String verb, String resource, String subresource, String namespace) {
    static Access of(String verb, String resource) {
      return new Access(verb, resource, "", "default");
    }

    static Access sub(String verb, String resource, String subresource) {
      return new Access(verb, resource, subresource, "default");
    }

    static Access lease(String verb) {
      return new Access(verb, "leases.coordination.k8s.io", "", OPERATOR_NAMESPACE);
    }

    static Access cluster(String verb, String resource) {
      return new Access(verb, resource, "", "");
    }

    @Override
    public String toString() {
      return verb
          + " "
          + resource
          + (subresource.isEmpty() ? "" : "/" + subresource)
          + (namespace.isEmpty() ? " (cluster)" : " in " + namespace);
    }
  }

  static Stream<Access> allowed() {
    return Stream.of(
        Access.of("get", "awsmfabindings.vaultmfa.io"),
        Access.of("list", "awsmfabindings.vaultmfa.io"),
        Access.of("watch", "awsmfabindings.vaultmfa.io"),
        Access.cluster("list", "awsmfabindings.vaultmfa.io"),
        Access.cluster("watch", "awsmfabindings.vaultmfa.io"),
        Access.of("patch", "awsmfabindings.vaultmfa.io"),
        Access.of("update", "awsmfabindings.vaultmfa.io"),
        Access.sub("patch", "awsmfabindings.vaultmfa.io", "status"),
        Access.sub("update", "awsmfabindings.vaultmfa.io", "status"),
        Access.sub("update", "awsmfabindings.vaultmfa.io", "finalizers"),
        Access.of("create", "secrets"),
        Access.of("get", "secrets"),
        Access.of("update", "secrets"),
        Access.of("patch", "secrets"),
        Access.of("delete", "secrets"),
        Access.cluster("list", "secrets"),
        Access.cluster("watch", "secrets"),
        Access.of("create", "events"),
        Access.of("patch", "events"),
        Access.lease("get"),
        Access.lease("create"),
        Access.lease("update"),
        Access.lease("patch"));
  }

  static Stream<Access> denied() {
    return Stream.of(
        Access.of("create", "awsmfabindings.vaultmfa.io"),
        Access.of("delete", "awsmfabindings.vaultmfa.io"),
        Access.of("deletecollection", "awsmfabindings.vaultmfa.io"),
        Access.sub("create", "awsmfabindings.vaultmfa.io", "status"),
        Access.cluster("update", "customresourcedefinitions.apiextensions.k8s.io"),
        Access.cluster("delete", "customresourcedefinitions.apiextensions.k8s.io"),
        Access.of("deletecollection", "secrets"),
        Access.of("list", "events"),
        Access.of("delete", "events"),
        Access.lease("delete"),
        Access.lease("list"),
        // The Lease is granted in the operator's namespace only.
        Access.of("get", "leases.coordination.k8s.io"),
        Access.of("update", "leases.coordination.k8s.io"),
        Access.of("patch", "leases.coordination.k8s.io"),
        Access.of("get", "pods"),
        Access.of("create", "pods"),
        Access.sub("create", "pods", "exec"),
        Access.of("get", "configmaps"),
        Access.of("create", "configmaps"),
        Access.of("create", "deployments.apps"),
        Access.of("create", "serviceaccounts"),
        Access.sub("create", "serviceaccounts", "token"),
        Access.of("create", "rolebindings.rbac.authorization.k8s.io"),
        Access.cluster("create", "clusterroles.rbac.authorization.k8s.io"),
        Access.cluster("create", "clusterrolebindings.rbac.authorization.k8s.io"),
        Access.cluster("escalate", "clusterroles.rbac.authorization.k8s.io"),
        Access.cluster("bind", "clusterroles.rbac.authorization.k8s.io"),
        Access.cluster("impersonate", "users"),
        Access.cluster("impersonate", "serviceaccounts"),
        Access.cluster("create", "tokenreviews.authentication.k8s.io"),
        Access.cluster("create", "namespaces"),
        Access.cluster("delete", "namespaces"),
        Access.cluster("list", "nodes"),
        Access.cluster("create", "certificatesigningrequests.certificates.k8s.io"));
  }

  private static Result canI(Access a) {
    List<String> args = new ArrayList<>(List.of("auth", "can-i", a.verb(), a.resource()));
    if (!a.subresource().isEmpty()) {
      args.add("--subresource=" + a.subresource());
    }
    if (a.namespace().isEmpty()) {
      args.add("--all-namespaces");
    } else {
      args.add("-n");
      args.add(a.namespace());
    }
    args.add("--as=" + OPERATOR_USER);
    return cp.kubectl(args.toArray(String[]::new));
  }

  @ParameterizedTest(name = "may {0}")
  @MethodSource("allowed")
  void operatorMayDoWhatItNeeds(Access a) {
    Result r = canI(a);
    assertThat(r.output().trim()).as("kubectl auth can-i %s: %s", a, r).isEqualTo("yes");
    assertThat(r.exitCode()).isZero();
  }

  @ParameterizedTest(name = "may not {0}")
  @MethodSource("denied")
  void operatorMayNotDoMore(Access a) {
    Result r = canI(a);
    assertThat(r.output().trim()).as("kubectl auth can-i %s: %s", a, r).startsWith("no");
    assertThat(r.exitCode()).isNotZero();
  }

  @Test
  void operatorRulesAreExactlyTheClusterRole() {
    // What the ServiceAccount may do beyond what every authenticated user may.
    String rules =
        ok(
            cp.kubectl("auth", "can-i", "--list", "-n", "default", "--as=" + OPERATOR_USER),
            "kubectl auth can-i --list");
    assertThat(rules).doesNotContain("*.*").doesNotContain("pods").doesNotContain("configmaps");
  }

  @Test
  void renderedDeploymentPassesServerSideDryRun() {
    String rendered = ok(cp.kubectl("kustomize", "deploy/"), "kubectl kustomize deploy/");
    assertThat(rendered)
        .contains("kind: Deployment")
        .contains("serviceAccountName: vault-mfa-operator");
    ok(
        cp.kubectlWithInput(rendered, "apply", "--server-side", "--dry-run=server", "-f", "-"),
        "server-side dry-run apply of kubectl kustomize deploy/");
    String sa =
        ok(
            cp.kubectl(
                "get",
                "deployment",
                "vault-mfa-operator",
                "-n",
                "vault-mfa-operator",
                "-o",
                "jsonpath={.spec.template.spec.serviceAccountName}"),
            "the applied Deployment");
    assertThat(sa).isEqualTo("vault-mfa-operator");
  }
}
