package io.vaultmfa.operator.outside;

import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.Interceptor;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

/**
 * Test only: named points right after a call to an outside system where the operator stops, so that
 * a test can kill the process exactly there (SIGKILL) and prove that a restart converges (DESIGN.md
 * invariant I3). The idea is etcd's gofail.
 *
 * <p>Armed by the system property {@value #PROPERTY} or the environment variable {@value #ENV}: a
 * comma-separated list of point names. Neither is set in production, and nothing reads them again:
 * unarmed, each check is one test of a constant. A point is {@code <system>.<operation>} as {@link
 * io.vaultmfa.operator.metrics.OutsideCalls} counts the call ({@code iam.CreateVirtualMFADevice},
 * {@code vault.WriteKey}, ...), or one of the Kubernetes writes {@link #KUBERNETES_SECRET_WRITE},
 * {@link #KUBERNETES_STATUS_WRITE} and {@link #KUBERNETES_FINALIZER_REMOVED}. When a successful
 * call reaches an armed point, one line {@code vaultmfa-failpoint reached <name>} goes to standard
 * output and the calling thread blocks forever.
 */
public final class Failpoints {

  public static final String PROPERTY = "vaultmfa.failpoints";
  public static final String ENV = "VAULTMFA_FAILPOINTS";

  /** What a test waits for on the operator's standard output. */
  public static final String MARKER = "vaultmfa-failpoint reached ";

  /** The output Secret was created, edited or deleted. */
  public static final String KUBERNETES_SECRET_WRITE = "kubernetes.SecretWrite";

  /** The binding's status subresource was written. */
  public static final String KUBERNETES_STATUS_WRITE = "kubernetes.StatusWrite";

  /** The finalizer was removed from a binding being deleted. */
  public static final String KUBERNETES_FINALIZER_REMOVED = "kubernetes.FinalizerRemoved";

  private static final Set<String> ARMED =
      parse(System.getProperty(PROPERTY, System.getenv().getOrDefault(ENV, "")));
  private static final boolean ON = !ARMED.isEmpty();

  static {
    if (ON) {
      System.err.println("vault-mfa-operator: TEST-ONLY failpoints armed: " + ARMED);
    }
  }

  private Failpoints() {}

  /** The names in a comma-separated list. */
  public static Set<String> parse(String spec) {
    return Arrays.stream(spec.split(","))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .collect(Collectors.toUnmodifiableSet());
  }

  /** Whether any point is armed in this process. */
  public static boolean armed() {
    return ON;
  }

  /** After a successful call to an outside system. */
  public static void after(String system, String operation) {
    if (ON) {
      reach(system + "." + operation);
    }
  }

  /**
   * When armed, watches the Kubernetes client's writes for the Kubernetes points; otherwise leaves
   * the client as it is. For {@code KubernetesClientBuilder.withHttpClientBuilderConsumer}.
   */
  public static void watchKubernetes(HttpClient.Builder builder) {
    if (ON) {
      builder.addOrReplaceInterceptor("vaultmfa-failpoints", new KubernetesWrites());
    }
  }

  private static void reach(String name) {
    if (!ARMED.contains(name)) {
      return;
    }
    System.out.println(MARKER + name);
    System.out.flush();
    while (true) {
      LockSupport.park(Failpoints.class);
    }
  }

  /** Names a successful write of the Kubernetes API by its method, path and body. */
  static String kubernetesPoint(String method, String path, String body) {
    String m = method.toUpperCase(Locale.ROOT);
    if (m.equals("GET")) {
      return null;
    }
    if (path.matches("/api/v1/namespaces/[^/]+/secrets(/[^/]+)?")) {
      return KUBERNETES_SECRET_WRITE;
    }
    if (path.matches("/apis/vaultmfa\\.io/[^/]+/namespaces/[^/]+/awsmfabindings/[^/]+/status")) {
      return KUBERNETES_STATUS_WRITE;
    }
    if (path.matches("/apis/vaultmfa\\.io/[^/]+/namespaces/[^/]+/awsmfabindings/[^/]+")
        && body != null
        && body.contains("/metadata/finalizers")
        && body.contains("\"remove\"")) {
      // java-operator-sdk removes its finalizer with a JSON patch.
      return KUBERNETES_FINALIZER_REMOVED;
    }
    return null;
  }

  private static final class KubernetesWrites implements Interceptor {
    @Override
    public void after(
        HttpRequest request,
        HttpResponse<?> response,
        AsyncBody.Consumer<List<ByteBuffer>> consumer) {
      if (!response.isSuccessful()) {
        return;
      }
      String point =
          kubernetesPoint(request.method(), request.uri().getPath(), request.bodyString());
      if (point != null) {
        reach(point);
      }
    }
  }
}
