package io.vaultmfa.operator.e2e;

import io.vaultmfa.operator.testing.KubeControlPlane;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One real control plane (etcd, kube-apiserver, kube-controller-manager) for every end-to-end test
 * class of the run, with {@code crds/} and {@code deploy/} applied once; stopped when the whole
 * test run ends. Sharing it saves a start per class and, more, gives the controller-manager's
 * garbage collector time to discover the CRD (it looks at discovery every 30 s) before a test waits
 * for it to collect an owned Secret. Each class works in its own namespace.
 *
 * <p>Use with {@code @ExtendWith(SharedControlPlane.class)} and {@link #get()}.
 */
final class SharedControlPlane implements BeforeAllCallback {

  private static final String KEY = SharedControlPlane.class.getName();
  private static volatile KubeControlPlane plane;

  /** Wraps the plane so that JUnit closes it after the last test class. */
  private record Closing(KubeControlPlane cp) implements ExtensionContext.Store.CloseableResource {
    @Override
    public void close() {
      plane = null;
      cp.close();
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    context
        .getRoot()
        .getStore(ExtensionContext.Namespace.GLOBAL)
        .getOrComputeIfAbsent(KEY, k -> new Closing(startAndInstall()), Closing.class);
  }

  private static KubeControlPlane startAndInstall() {
    KubeControlPlane cp = KubeControlPlane.start();
    try {
      ClusterSetup.installCrds(cp);
      ClusterSetup.installDeploy(cp);
    } catch (RuntimeException | AssertionError e) {
      cp.close();
      throw e;
    }
    plane = cp;
    return cp;
  }

  /** The running plane; only inside a class extended with this. */
  static KubeControlPlane get() {
    KubeControlPlane cp = plane;
    if (cp == null) {
      throw new IllegalStateException("no shared control plane: @ExtendWith(SharedControlPlane)");
    }
    return cp;
  }
}
