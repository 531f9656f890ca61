package io.vaultmfa.operator.testing;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * fabric8's mock API server in CRUD mode, able to answer 409 Conflict to the status writes of
 * chosen bindings, as an API server does when another writer got there first. Keeps when each
 * refused write arrived, so tests can count the operator's attempts.
 */
public final class StatusConflicts extends KubernetesCrudDispatcher {

  private final Set<String> refused = ConcurrentHashMap.newKeySet();
  private final Map<String, List<Instant>> seen = new ConcurrentHashMap<>();

  /** From now on, every status write of this binding is answered 409 Conflict. */
  public void refuse(String namespace, String name) {
    refused.add(statusPath(namespace, name));
  }

  /** Status writes go through again. */
  public void accept(String namespace, String name) {
    refused.remove(statusPath(namespace, name));
  }

  /** When each refused status write of this binding arrived, oldest first. */
  public List<Instant> refusedWrites(String namespace, String name) {
    return List.copyOf(seen.getOrDefault(statusPath(namespace, name), List.of()));
  }

  @Override
  public MockResponse handlePatch(RecordedRequest request) {
    MockResponse conflict = conflict(request);
    return conflict != null ? conflict : super.handlePatch(request);
  }

  @Override
  public MockResponse handleUpdate(RecordedRequest request) {
    MockResponse conflict = conflict(request);
    return conflict != null ? conflict : super.handleUpdate(request);
  }

  private MockResponse conflict(RecordedRequest request) {
    String path = request.getPath();
    int query = path.indexOf('?');
    String p = query < 0 ? path : path.substring(0, query);
    if (!refused.contains(p)) {
      return null;
    }
    seen.computeIfAbsent(p, k -> new CopyOnWriteArrayList<>()).add(Instant.now());
    String name = p.substring(p.lastIndexOf("/awsmfabindings/") + 16, p.length() - 7);
    return new MockResponse()
        .setResponseCode(409)
        .addHeader("Content-Type", "application/json")
        .setBody(
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
                + "\"Operation cannot be fulfilled on awsmfabindings.vaultmfa.io \\\""
                + name
                + "\\\": the object has been modified; please apply your changes to the latest"
                + " version and try again\",\"reason\":\"Conflict\",\"code\":409}");
  }

  private static String statusPath(String namespace, String name) {
    return "/apis/vaultmfa.io/v1alpha1/namespaces/"
        + namespace
        + "/awsmfabindings/"
        + name
        + "/status";
  }
}
