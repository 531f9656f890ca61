package io.vaultmfa.operator.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vaultmfa.operator.monitoring.MonitoringConfig.Query;
import io.vaultmfa.operator.testing.Command;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * config/monitoring as Prometheus and Grafana take it: the alert rules pass {@code promtool check
 * rules} and their unit tests ({@code promtool test rules}), every alert has a test in which it
 * fires, and every dashboard query is PromQL that Prometheus parses.
 */
class MonitoringConfigTest {

  @Test
  void promtoolAcceptsTheAlertRules() {
    Command.Result r =
        Command.run(List.of("promtool", "check", "rules", rel(MonitoringConfig.ALERTS)));

    assertThat(r.exitCode()).as("promtool check rules:%n%s", r.output()).isZero();
    assertThat(r.output()).contains("SUCCESS");
  }

  @Test
  void alertRuleUnitTestsPass() {
    Command.Result r =
        Command.run(List.of("promtool", "test", "rules", rel(MonitoringConfig.ALERT_TESTS)));

    assertThat(r.exitCode()).as("promtool test rules:%n%s", r.output()).isZero();
    assertThat(r.output()).contains("SUCCESS");
  }

  @Test
  void everyAlertHasATestInWhichItFires() throws Exception {
    Set<String> alerts = new TreeSet<>();
    MonitoringConfig.alertQueries()
        .forEach(q -> alerts.add(q.where().substring("alerts.yaml ".length())));
    Set<String> firing = new HashSet<>();
    JsonNode tests =
        new ObjectMapper(new YAMLFactory()).readTree(MonitoringConfig.ALERT_TESTS.toFile());
    for (JsonNode group : tests.path("tests")) {
      for (JsonNode t : group.path("alert_rule_test")) {
        if (!t.path("exp_alerts").isEmpty()) {
          firing.add(t.path("alertname").asText());
        }
      }
    }

    assertThat(alerts).as("alerts in alerts.yaml").isNotEmpty();
    assertThat(firing).as("alerts that fire in alerts-test.yaml").containsAll(alerts);
  }

  @Test
  void everyDashboardQueryIsPromQlThatPrometheusParses(@TempDir Path dir) throws Exception {
    List<Query> queries = MonitoringConfig.dashboardQueries();
    StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
    int i = 0;
    for (Query q : queries) {
      rules
          .append("      - record: dashboard:query_")
          .append(++i)
          .append("\n        expr: ")
          .append(yamlString(MonitoringConfig.asPrometheusSees(q.promql())))
          .append("\n");
    }
    Path file = dir.resolve("dashboard-queries.yaml");
    Files.writeString(file, rules);

    Command.Result r = Command.run(List.of("promtool", "check", "rules", file.toString()));

    assertThat(queries).hasSizeGreaterThan(20);
    assertThat(r.exitCode())
        .as("promtool check rules on the dashboard's %d queries:%n%s", queries.size(), r.output())
        .isZero();
  }

  @Test
  void dashboardPanelsHaveUniqueIdsTheDataSourceVariableAndAQuery() {
    Set<Integer> ids = new HashSet<>();
    List<String> problems = new ArrayList<>();
    for (JsonNode p : MonitoringConfig.panels()) {
      String name = "panel " + p.path("id").asInt() + " (" + p.path("title").asText() + ")";
      if (!ids.add(p.path("id").asInt())) {
        problems.add(name + ": id used twice");
      }
      if (p.path("type").asText().equals("row")) {
        continue;
      }
      if (!p.path("datasource").path("uid").asText().equals("${datasource}")) {
        problems.add(name + ": datasource is not ${datasource}");
      }
      if (p.path("targets").isEmpty()) {
        problems.add(name + ": no query");
      }
      for (JsonNode t : p.path("targets")) {
        if (t.path("expr").asText().isBlank()) {
          problems.add(name + " " + t.path("refId").asText() + ": empty expr");
        }
      }
    }

    assertThat(problems).isEmpty();
  }

  @Test
  void dashboardUsesOnlyVariablesItDefines() {
    Set<String> defined = new HashSet<>(Set.of("__rate_interval", "__interval", "__range"));
    MonitoringConfig.dashboard()
        .path("templating")
        .path("list")
        .forEach(v -> defined.add(v.path("name").asText()));
    Set<String> used = new TreeSet<>();
    Matcher m = Pattern.compile("\\$\\{?(\\w+)").matcher(MonitoringConfig.dashboard().toString());
    while (m.find()) {
      used.add(m.group(1));
    }

    assertThat(defined).containsAll(used);
  }

  @Test
  void metricNamesAreTheSelectorsNotFunctionsLabelsOrDurations() {
    assertThat(
            MonitoringConfig.metricNames(
                "histogram_quantile(0.95, sum by (system, le) (rate(a_seconds_bucket{job=~\"$job\","
                    + " outcome!~\"success|not_found\"}[$__rate_interval]))) / on (system)"
                    + " group_left (x) b_total offset 5m > bool 1e3 or absent(c_leader) unless"
                    + " vector(0)"))
        .containsExactlyInAnyOrder("a_seconds_bucket", "b_total", "c_leader");
    assertThat(MonitoringConfig.metricNames("sum without (instance, pod) (k8s_thing:rate5m)"))
        .containsExactly("k8s_thing:rate5m");
  }

  private static String rel(Path p) {
    return p.toString();
  }

  private static String yamlString(String s) {
    return "'" + s.replace("'", "''") + "'";
  }
}
