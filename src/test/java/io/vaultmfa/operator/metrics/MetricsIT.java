package io.vaultmfa.operator.metrics;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.testing.PrometheusText;
import io.vaultmfa.operator.testing.PrometheusText.Sample;
import io.vaultmfa.operator.testing.WithOperator;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * What Prometheus scrapes from {@code /metrics} once a binding is Ready: every metric the README
 * lists, with values a person would expect, and no label that names or identifies one binding.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MetricsIT extends WithOperator {

  static final String NS = "metrics-it";
  static final String NAME = "ci-deployer";
  static final String USER = "MetricsUser";

  static AwsMfaBinding ready;

  @Test
  @Order(1)
  void healthAndReadinessAnswer() {
    assertThat(h.getHttp("/healthz").statusCode()).isEqualTo(200);
    var readyz = h.getHttp("/readyz");
    assertThat(readyz.statusCode()).as("/readyz: %s", readyz.body()).isEqualTo(200);
    assertThat(readyz.body()).isEqualTo("ready\n");
  }

  @Test
  @Order(2)
  void aReadyBindingShowsInEveryMetric() {
    h.apply(binding(NS, NAME, USER));
    ready = h.awaitReady(NS, NAME);
    // The gauge counts the informer's cache, which sees the status a moment after the client.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(
                        PrometheusText.parse(h.scrape())
                            .value("vaultmfa_bindings", "ready", "True", "reason", "Ready"))
                    .contains(1.0));
    PrometheusText m = PrometheusText.parse(h.scrape());
    assertThat(m.sum("vaultmfa_bindings")).as("one binding in all").isEqualTo(1.0);

    assertThat(m.value("vaultmfa_time_to_ready_seconds_count")).contains(1.0);
    double seconds = m.value("vaultmfa_time_to_ready_seconds_sum").orElseThrow();
    assertThat(seconds).as("creation to Ready, in seconds").isGreaterThan(0).isLessThan(120);
    assertThat(m.value("vaultmfa_time_to_ready_seconds_bucket", "le", "+Inf")).contains(1.0);

    assertThat(m.value("vaultmfa_enrolments_total", "outcome", "success")).contains(1.0);
    assertThat(m.value("vaultmfa_enrolments_total", "outcome", "failure")).contains(0.0);
    for (String outcome : List.of("success", "failure")) {
      assertThat(m.value("vaultmfa_rotations_total", "outcome", outcome)).contains(0.0);
    }
    for (String kind : List.of("device", "vault_key", "user", "secret")) {
      assertThat(m.value("vaultmfa_drift_repairs_total", "kind", kind)).as(kind).contains(0.0);
    }
    assertThat(m.value("vaultmfa_leader")).contains(1.0);

    String[] create = {"system", "iam", "operation", "CreateVirtualMFADevice"};
    assertThat(m.sum("vaultmfa_outside_calls_seconds_count", create)).isGreaterThanOrEqualTo(1);
    assertThat(m.named("vaultmfa_outside_calls_seconds_bucket"))
        .as("latency histogram buckets")
        .anySatisfy(s -> assertThat(s.has(create)).isTrue());
    assertThat(m.named("vaultmfa_outside_calls_seconds_max")).isNotEmpty();
    assertThat(
            m.sum("vaultmfa_outside_calls_seconds_count", "system", "vault", "outcome", "success"))
        .isGreaterThanOrEqualTo(1);

    // java-operator-sdk's own reconcile metrics, per resource type.
    assertThat(m.sum("operator_sdk_reconciliations_started_total", "kind", "AwsMfaBinding"))
        .isGreaterThanOrEqualTo(1);
    assertThat(m.sum("operator_sdk_reconciliations_success_total")).isGreaterThanOrEqualTo(1);
    assertThat(m.sum("operator_sdk_controllers_execution_reconcile_seconds_count"))
        .isGreaterThanOrEqualTo(1);
  }

  @Test
  @Order(3)
  void noLabelNamesOrIdentifiesABinding() {
    Set<String> identifying =
        Set.of(NS, NAME, USER, ready.getMetadata().getUid(), NAME + "-mfa", NS + "." + NAME);
    List<Sample> samples = PrometheusText.parse(h.scrape()).samples();
    assertThat(samples).isNotEmpty();
    for (Sample s : samples) {
      assertThat(s.labels().keySet())
          .as("labels of %s", s.name())
          .doesNotContain("name", "namespace", "resource_name", "resource_namespace", "uid");
      for (String v : s.labels().values()) {
        assertThat(identifying).as("label value %s of %s", v, s.name()).doesNotContain(v);
        assertThat(v).as("label of %s", s.name()).doesNotContain(ready.getMetadata().getUid());
      }
    }
  }

  @Test
  @Order(4)
  void aFailingBindingIsCountedByReasonAndDroppedWhenDeleted() {
    AwsMfaBinding bad = binding(NS, "bad-key", "MetricsBad");
    bad.getSpec().getVault().setKeyName("no/slash");
    h.apply(bad);
    h.awaitCondition(NS, "bad-key", "Ready", "False", "InvalidSpec");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(
                        PrometheusText.parse(h.scrape())
                            .value("vaultmfa_bindings", "ready", "False", "reason", "InvalidSpec"))
                    .contains(1.0));
    PrometheusText m = PrometheusText.parse(h.scrape());
    assertThat(m.value("vaultmfa_bindings", "ready", "True", "reason", "Ready")).contains(1.0);

    h.delete(NS, "bad-key");
    h.awaitGone(NS, "bad-key");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(
                        PrometheusText.parse(h.scrape())
                            .sum("vaultmfa_bindings", "reason", "InvalidSpec"))
                    .as("a deleted binding is not counted")
                    .isZero());
    PrometheusText after = PrometheusText.parse(h.scrape());
    assertThat(after.sum("vaultmfa_bindings")).isEqualTo(1.0);
    assertThat(after.value("vaultmfa_time_to_ready_seconds_count"))
        .as("only the binding that became Ready was timed")
        .contains(1.0);
    assertThat(after.value("vaultmfa_enrolments_total", "outcome", "success")).contains(1.0);
  }
}
