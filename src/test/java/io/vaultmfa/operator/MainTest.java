package io.vaultmfa.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

class MainTest {

  @Test
  void theRetryAttemptTagOfJavaOperatorSdkIsCapped() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Main.configure(registry);
    for (String attempt : new String[] {"0", "3", "5", "6", "250"}) {
      registry
          .counter("operator.sdk.reconciliations.started", Main.RETRY_NUMBER_TAG, attempt)
          .increment();
    }
    String text = registry.scrape();
    assertThat(text)
        .contains("reconciliations_retries_number=\"0\"")
        .contains("reconciliations_retries_number=\"3\"")
        .contains("reconciliations_retries_number=\"5+\"} 3.0")
        .doesNotContain("reconciliations_retries_number=\"250\"")
        .doesNotContain("reconciliations_retries_number=\"6\"");
  }
}
