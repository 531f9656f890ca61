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

  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

  @Override
  public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
    String method = request.method();
    if (method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS")) {
      return;
    }
    counts.computeIfAbsent(resource(request.uri().getPath()), k -> new LongAdder()).increment();
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
