package io.vaultmfa.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.vaultmfa.operator.testing.KubeControlPlane;
import io.vaultmfa.operator.testing.KubeControlPlane.Result;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/** What the end-to-end tests do to a fresh control plane before they start, with kubectl. */
final class ClusterSetup {

  static final String CRD =
      "customresourcedefinition.apiextensions.k8s.io/awsmfabindings.vaultmfa.io";
  static final String OPERATOR_NAMESPACE = "vault-mfa-operator";
  static final String OPERATOR_SA = "vault-mfa-operator";
  static final String OPERATOR_USER =
      "system:serviceaccount:" + OPERATOR_NAMESPACE + ":" + OPERATOR_SA;

  private ClusterSetup() {}

  /** Fails with kubectl's output unless it exited 0; returns that output. */
  static String ok(Result r, String what) {
    assertThat(r.exitCode()).as("%s, kubectl said:%n%s", what, r.output()).isZero();
    return r.output();
  }

  /** {@code kubectl apply -f crds/}, then waits until the CRD is Established. */
  static void installCrds(KubeControlPlane cp) {
    ok(cp.kubectl("apply", "-f", "crds/"), "kubectl apply -f crds/");
    ok(
        cp.kubectl("wait", "--for=condition=Established", CRD, "--timeout=60s"),
        "the CRD becomes Established");
  }

  /**
   * {@code kubectl apply -k deploy/}: Namespace, ServiceAccount, ClusterRole and binding,
   * ConfigMap, Service and the Deployment. Nothing schedules the Deployment's pod here (no
   * scheduler, no kubelet); the operator runs in the test JVM as that ServiceAccount instead.
   */
  static void installDeploy(KubeControlPlane cp) {
    ok(cp.kubectl("apply", "-k", "deploy/"), "kubectl apply -k deploy/");
  }

  /** A ServiceAccount token from {@code kubectl create token}; never printed. */
  static String token(KubeControlPlane cp, String namespace, String serviceAccount) {
    Result r = cp.kubectl("create", "token", serviceAccount, "-n", namespace, "--duration=2h");
    assertThat(r.exitCode())
        .as("kubectl create token %s -n %s", serviceAccount, namespace)
        .isZero();
    String token = r.output().trim();
    assertThat(token).as("a JWT").matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");
    return token;
  }

  /** The apiserver's URL, e.g. {@code https://127.0.0.1:41234}, from the plane's env file. */
  static String apiserverUrl(KubeControlPlane cp) {
    Properties env = new Properties();
    try (var in = Files.newBufferedReader(cp.dir().resolve("env"))) {
      env.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return env.getProperty("KUBE_APISERVER");
  }

  /** The PEM of the cluster CA that signed the apiserver's serving certificate. */
  static String caPem(KubeControlPlane cp) {
    return read(cp.dir().resolve("pki/ca.crt"));
  }

  static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
