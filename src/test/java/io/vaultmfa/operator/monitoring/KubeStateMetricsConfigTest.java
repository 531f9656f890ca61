package io.vaultmfa.operator.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * config/monitoring/kube-state-metrics.yaml names the CRD's group, kind and served version, and
 * every path it reads exists in the CRD's schema (or is standard object metadata), so that
 * kube-state-metrics finds a value for each binding. (kube-state-metrics itself is not run here:
 * the Go module proxy reachable from this project does not serve it.)
 */
class KubeStateMetricsConfigTest {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Set<String> METADATA =
      Set.of(
          "name", "namespace", "creationTimestamp", "generation", "uid", "labels", "annotations");

  @Test
  void resourceIsTheCrdsGroupKindAndServedVersion() throws Exception {
    JsonNode crd = crd();
    JsonNode resource = resource();

    assertThat(config().path("kind").asText()).isEqualTo("CustomResourceStateMetrics");
    JsonNode gvk = resource.path("groupVersionKind");
    assertThat(gvk.path("group").asText()).isEqualTo(crd.path("spec").path("group").asText());
    assertThat(gvk.path("kind").asText())
        .isEqualTo(crd.path("spec").path("names").path("kind").asText());
    assertThat(version(crd, gvk.path("version").asText()).path("served").asBoolean()).isTrue();
  }

  @Test
  void everyPathIsInTheSchema() throws Exception {
    JsonNode resource = resource();
    JsonNode schema =
        version(crd(), resource.path("groupVersionKind").path("version").asText())
            .path("schema")
            .path("openAPIV3Schema");
    List<String> problems = new ArrayList<>();
    check(schema, resource.path("labelsFromPath"), List.of(), "labelsFromPath", problems);
    for (JsonNode metric : resource.path("metrics")) {
      String name = metric.path("name").asText();
      JsonNode each = metric.path("each");
      JsonNode body = each.path(lowerFirst(each.path("type").asText()));
      List<String> base = strings(body.path("path"));
      if (!base.isEmpty()) {
        resolve(schema, base, name + " path", problems);
      }
      check(schema, body.path("labelsFromPath"), base, name, problems);
      if (body.has("valueFrom")) {
        List<String> value = new ArrayList<>(base);
        value.addAll(strings(body.path("valueFrom")));
        resolve(schema, value, name + " valueFrom", problems);
      }
    }

    assertThat(resource.path("metrics")).hasSizeGreaterThanOrEqualTo(3);
    assertThat(problems).isEmpty();
  }

  @Test
  void conditionsAreExposedWithTypeStatusAndReason() throws Exception {
    JsonNode condition = null;
    for (JsonNode m : resource().path("metrics")) {
      if (m.path("name").asText().equals("status_condition")) {
        condition = m.path("each").path("gauge");
      }
    }

    assertThat(condition).as("metric status_condition").isNotNull();
    assertThat(strings(condition.path("path"))).containsExactly("status", "conditions");
    assertThat(condition.path("labelsFromPath").fieldNames())
        .toIterable()
        .contains("type", "status", "reason");
  }

  private static void check(
      JsonNode schema, JsonNode labels, List<String> base, String where, List<String> problems) {
    for (var it = labels.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      List<String> path = new ArrayList<>(base);
      path.addAll(strings(e.getValue()));
      resolve(schema, path, where + " label " + e.getKey(), problems);
    }
  }

  /** Follows the path through properties and array items; "[k=v]" selects an array element. */
  private static void resolve(
      JsonNode schema, List<String> path, String where, List<String> problems) {
    if (path.size() == 2 && path.get(0).equals("metadata") && METADATA.contains(path.get(1))) {
      return;
    }
    JsonNode node = schema;
    for (String segment : path) {
      if (node.path("type").asText().equals("array")) {
        node = node.path("items");
        if (segment.startsWith("[") && segment.endsWith("]")) {
          String field = segment.substring(1, segment.indexOf('='));
          if (!node.path("properties").has(field)) {
            problems.add(where + ": " + path + " selects by " + field + ", not in the schema");
          }
          continue;
        }
      }
      node = node.path("properties").path(segment);
      if (node.isMissingNode()) {
        problems.add(where + ": " + path + " is not in the CRD schema");
        return;
      }
    }
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static String lowerFirst(String s) {
    return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
  }

  private static JsonNode version(JsonNode crd, String name) {
    for (JsonNode v : crd.path("spec").path("versions")) {
      if (v.path("name").asText().equals(name)) {
        return v;
      }
    }
    throw new AssertionError("the CRD has no version " + name);
  }

  private static JsonNode resource() throws Exception {
    return config().path("spec").path("resources").get(0);
  }

  private static JsonNode config() throws Exception {
    return YAML.readTree(Path.of("config/monitoring/kube-state-metrics.yaml").toFile());
  }

  private static JsonNode crd() throws Exception {
    return YAML.readTree(Path.of("crds/awsmfabindings.vaultmfa.io-v1.yml").toFile());
  }
}
