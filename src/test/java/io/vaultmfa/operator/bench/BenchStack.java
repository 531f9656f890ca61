package io.vaultmfa.operator.bench;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vaultmfa.operator.testing.KubeControlPlane;
import io.vaultmfa.operator.testing.MotoServer;
import io.vaultmfa.operator.testing.OpenBaoServer;

/**
 * The local stack the benchmark runs on: OpenBao, moto and a real Kubernetes control plane (etcd,
 * kube-apiserver, kube-controller-manager), the same processes as the tests and {@code
 * scripts/run-local.sh}, started through the same classes.
 */
final class BenchStack implements AutoCloseable {

  final OpenBaoServer bao;
  final MotoServer moto;
  final KubeControlPlane controlPlane;
  final KubernetesClient client;

  private BenchStack(OpenBaoServer bao, MotoServer moto, KubeControlPlane controlPlane) {
    this.bao = bao;
    this.moto = moto;
    this.controlPlane = controlPlane;
    this.client = controlPlane.client();
  }

  static BenchStack start() {
    OpenBaoServer bao = OpenBaoServer.start();
    MotoServer moto = null;
    KubeControlPlane cp = null;
    try {
      moto = MotoServer.start();
      cp = KubeControlPlane.start();
      KubeControlPlane.Result crds = cp.kubectl("apply", "-f", "crds/");
      if (!crds.ok()) {
        throw new IllegalStateException("kubectl apply -f crds/ failed: " + crds.output());
      }
      KubeControlPlane.Result established =
          cp.kubectl(
              "wait",
              "--for=condition=Established",
              "crd/awsmfabindings.vaultmfa.io",
              "--timeout=60s");
      if (!established.ok()) {
        throw new IllegalStateException("the CRD is not established: " + established.output());
      }
      return new BenchStack(bao, moto, cp);
    } catch (RuntimeException e) {
      if (cp != null) {
        cp.close();
      }
      if (moto != null) {
        moto.close();
      }
      bao.close();
      throw e;
    }
  }

  void createNamespace(String ns) {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .serverSideApply();
  }

  @Override
  public void close() {
    try {
      controlPlane.close();
    } finally {
      try {
        moto.close();
      } finally {
        bao.close();
      }
    }
  }
}
