package io.vaultmfa.operator.bench;

import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the write requests the operator's Kubernetes client sends (POST, PUT, PATCH, DELETE), by
 * resource: {@code awsmfabindings} (finalizer and metadata), {@code awsmfabindings/status}, {@code
 * secrets}, {@code events}. Installed on the operator's own client only, so the benchmark's writes
 * (creating and deleting bindings) are not counted.
 */
final class KubeWrites implements Interceptor {

  private static final String TIMING_HEADER = "X-Benchmark-Write";
  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
  private final Map<String, Long> started = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong ids =
      new java.util.concurrent.atomic.AtomicLong();
  private final LongAdder nanos = new LongAdder();

  @Override
  public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
    String method = request.method();
    if (method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS")) {
      return;
    }
    counts.computeIfAbsent(resource(request.uri().getPath()), k -> new LongAdder()).increment();
    // The request the client finally sends is a copy; a header finds it again in after().
    String id = String.valueOf(ids.incrementAndGet());
    builder.header(TIMING_HEADER, id);
    started.put(id, System.nanoTime());
  }

  @Override
  public void after(
      HttpRequest request,
      io.fabric8.kubernetes.client.http.HttpResponse<?> response,
      io.fabric8.kubernetes.client.http.AsyncBody.Consumer<java.util.List<java.nio.ByteBuffer>>
          consumer) {
    String id = request.header(TIMING_HEADER);
    Long t = id == null ? null : started.remove(id);
    if (t != null) {
      nanos.add(System.nanoTime() - t);
    }
  }

  /** Seconds spent waiting for write requests, until their response headers arrived. */
  double seconds() {
    return nanos.sum() / 1e9;
  }

  /** {@code /apis/g/v/namespaces/ns/plural/name/sub} to {@code plural/sub}. */
  static String resource(String path) {
    String[] p = path.split("/");
    int i = 0;
    while (i < p.length && !p[i].equals("namespaces")) {
      i++;
    }
    if (i + 2 >= p.length) {
      return path; // cluster-scoped or a namespace itself: keep it whole
    }
    String plural = p[i + 2];
    return i + 4 < p.length ? plural + "/" + p[i + 4] : plural;
  }

  Map<String, Long> snapshot() {
    Map<String, Long> m = new TreeMap<>();
    counts.forEach((k, v) -> m.put(k, v.sum()));
    return m;
  }

  long total() {
    return counts.values().stream().mapToLong(LongAdder::sum).sum();
  }
}
