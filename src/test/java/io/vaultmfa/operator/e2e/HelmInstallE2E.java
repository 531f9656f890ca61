package io.vaultmfa.operator.e2e;

import static io.vaultmfa.operator.e2e.ClusterSetup.CRD;
import static io.vaultmfa.operator.e2e.ClusterSetup.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.vaultmfa.operator.testing.Command;
import io.vaultmfa.operator.testing.Helm;
import io.vaultmfa.operator.testing.KubeControlPlane;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code helm install} and {@code helm uninstall} of {@code charts/vault-mfa-operator} on a real
 * API server, next to the {@code deploy/} installation the other end-to-end tests use: the
 * release's objects are accepted, its ServiceAccount may do what the operator does (in its own
 * namespace for the Lease), and uninstalling removes them but keeps the CRD and so every binding.
 * The CRD is there before (from {@code kubectl apply -f crds/}), as README says to install then. No
 * kubelet runs here, so the release's pods never start; that the chart's objects equal deploy/'s is
 * HelmChartTest's part.
 */
@ExtendWith(SharedControlPlane.class)
class HelmInstallE2E {

  private static final String RELEASE = "mfa";
  private static final String NAMESPACE = "helm-e2e";
  private static final String NAME = "mfa-vault-mfa-operator";
  private static final String USER = "system:serviceaccount:" + NAMESPACE + ":" + NAME;

  private static KubeControlPlane cp;

  @BeforeAll
  static void useControlPlane() {
    cp = SharedControlPlane.get();
  }

  @Test
  void installsAReleaseThatMayDoWhatTheOperatorDoesAndUninstallsItKeepingTheCrd() {
    Command.Result installed = install(NAMESPACE);
    assertThat(installed.exitCode()).as(installed.output()).isZero();
    assertThat(helm("status", RELEASE, "--namespace", NAMESPACE).output())
        .contains("STATUS: deployed");

    String objects =
        ok(
            cp.kubectl(
                "-n",
                NAMESPACE,
                "get",
                "deployment,serviceaccount,configmap,service,poddisruptionbudget,role,rolebinding",
                "-o",
                "name"),
            "the release's namespaced objects");
    assertThat(objects)
        .contains(
            "deployment.apps/" + NAME,
            "serviceaccount/" + NAME,
            "configmap/" + NAME + "-config",
            "service/" + NAME + "-metrics",
            "poddisruptionbudget.policy/" + NAME,
            "role.rbac.authorization.k8s.io/" + NAME + "-leader-election");
    ok(cp.kubectl("get", "clusterrole/" + NAME, "clusterrolebinding/" + NAME), "cluster objects");

    assertThat(canI("patch", "awsmfabindings.vaultmfa.io", "--subresource=status", "-n", "team-a"))
        .isTrue();
    assertThat(canI("list", "awsmfabindings.vaultmfa.io", "--all-namespaces")).isTrue();
    assertThat(canI("create", "secrets", "-n", "team-a")).isTrue();
    assertThat(canI("update", "leases.coordination.k8s.io", "-n", NAMESPACE)).isTrue();
    assertThat(canI("update", "leases.coordination.k8s.io", "-n", "vault-mfa-operator")).isFalse();
    assertThat(canI("create", "awsmfabindings.vaultmfa.io", "-n", "team-a")).isFalse();
    assertThat(canI("delete", "awsmfabindings.vaultmfa.io", "-n", "team-a")).isFalse();
    assertThat(canI("get", "configmaps", "-n", "team-a")).isFalse();

    // The same release name in another namespace would need the same ClusterRole: Helm refuses
    // it rather than taking the first release's objects over (README, "Install with Helm").
    Command.Result twin = install(NAMESPACE + "-twin");
    assertThat(twin.exitCode()).isNotZero();
    assertThat(twin.output()).contains("ClusterRole").contains("invalid ownership metadata");
    assertThat(
            cp.kubectl(
                    "get", "clusterrolebinding/" + NAME, "-o", "jsonpath={.subjects[0].namespace}")
                .output()
                .trim())
        .isEqualTo(NAMESPACE);
    assertThat(helm("list", "--all-namespaces", "-q").output().trim()).isEqualTo(RELEASE);

    Command.Result uninstalled = helm("uninstall", RELEASE, "--namespace", NAMESPACE, "--wait");
    assertThat(uninstalled.exitCode()).as(uninstalled.output()).isZero();
    assertThat(cp.kubectl("get", "clusterrole/" + NAME).exitCode()).isNotZero();
    assertThat(cp.kubectl("-n", NAMESPACE, "get", "deployment/" + NAME).exitCode()).isNotZero();
    ok(cp.kubectl("get", CRD), "the CRD outlives the release");
  }

  private static Command.Result install(String namespace) {
    return helm(
        "install",
        RELEASE,
        Helm.CHART,
        "--namespace",
        namespace,
        "--create-namespace",
        // The shared plane has the CRD from kubectl apply -f crds/; Helm 4 would apply its copy
        // with server-side apply and stop at the conflict with kubectl's field manager.
        "--skip-crds",
        "--set",
        "config.clusterId=helm-e2e",
        "--set",
        "config.vault.address=https://vault.example.com:8200");
  }

  private static Command.Result helm(String... args) {
    return Helm.run(Map.of("KUBECONFIG", cp.kubeconfig().toString()), List.of(args));
  }

  private static boolean canI(String verb, String resource, String... more) {
    List<String> args = new ArrayList<>(List.of("auth", "can-i", verb, resource, "--as=" + USER));
    args.addAll(List.of(more));
    KubeControlPlane.Result r = cp.kubectl(args.toArray(String[]::new));
    String answer = r.output().trim();
    assertThat(answer).as("kubectl %s", args).isIn("yes", "no");
    return answer.equals("yes");
  }
}
