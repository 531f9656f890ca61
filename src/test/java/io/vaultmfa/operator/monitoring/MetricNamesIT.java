package io.vaultmfa.operator.monitoring;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.monitoring.MonitoringConfig.Query;
import io.vaultmfa.operator.testing.WithOperator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every metric the dashboard and the alert rules query is one the operator really exports: the
 * operator runs a binding to Ready, repairs its edited Secret, refuses an invalid spec and deletes
 * the binding, then its /metrics text is scraped and each metric name of config/monitoring is
 * looked up in it. (The scrape is kept in target/it-logs/metrics-scrape.txt.)
 */
class MetricNamesIT extends WithOperator {

  private static String scrape;

  @BeforeAll
  static void runTheOperatorThroughItsStates() throws Exception {
    h.apply(binding("mon", "ready", "mon-ready"));
    h.awaitReady("mon", "ready");

    String edited = "aHR0cHM6Ly9lbHNld2hlcmU="; // https://elsewhere
    h.client
        .secrets()
        .inNamespace("mon")
        .withName("ready-mfa")
        .edit(
            s -> {
              s.getData().put("VAULT_ADDR", edited);
              return s;
            });
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> !edited.equals(h.secret("mon", "ready-mfa").getData().get("VAULT_ADDR")));

    AwsMfaBinding invalid = binding("mon", "invalid", "mon-invalid");
    invalid.getSpec().getIamUser().setManagedPolicyArns(List.of("not-an-arn"));
    h.apply(invalid);
    h.awaitCondition("mon", "invalid", "Ready", "False", "InvalidSpec");

    h.apply(binding("mon", "deleted", "mon-deleted"));
    h.awaitReady("mon", "deleted");
    h.delete("mon", "deleted");
    h.awaitGone("mon", "deleted");

    scrape = h.scrape();
    Path kept = Path.of("target/it-logs/metrics-scrape.txt");
    Files.createDirectories(kept.getParent());
    Files.writeString(kept, scrape);
  }

  @Test
  void everyMetricTheAlertRulesQueryIsExported() {
    assertAllExported(MonitoringConfig.alertQueries());
  }

  @Test
  void everyMetricTheDashboardQueriesIsExported() {
    assertAllExported(MonitoringConfig.dashboardQueries());
  }

  private static void assertAllExported(List<Query> queries) {
    Set<String> exported = exportedNames(scrape);
    Map<String, Set<String>> missing = new TreeMap<>();
    List<String> used = new ArrayList<>();
    for (Query q : queries) {
      for (String name : MonitoringConfig.metricNames(q.promql())) {
        used.add(name);
        if (!exported.contains(name)) {
          missing.computeIfAbsent(name, k -> new TreeSet<>()).add(q.where());
        }
      }
    }

    assertThat(used).as("metric names found in the queries").isNotEmpty();
    assertThat(missing)
        .as(
            "metrics queried by config/monitoring (name -> where) but not in the operator's"
                + " /metrics, which has %s",
            exported)
        .isEmpty();
  }

  /** The sample names of a Prometheus text exposition, e.g. {@code x_seconds_bucket}. */
  static Set<String> exportedNames(String exposition) {
    Set<String> names = new TreeSet<>();
    for (String line : exposition.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int end = 0;
      while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
        end++;
      }
      names.add(line.substring(0, end));
    }
    return names;
  }
}
