package io.vaultmfa.operator.reconciler;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.metrics.OutsideCalls;
import io.vaultmfa.operator.testing.SeedCapture;
import io.vaultmfa.operator.testing.WithOperator;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Invariant I5: a Ready binding costs no write on resync. */
class ResyncIT extends WithOperator {

  @BeforeAll
  static void prepare() {
    h.stopOperator();
    h.startOperator(Map.of(Setting.RESYNC_INTERVAL, "2s"));
  }

  @Test
  void resyncOfReadyBindingMakesNoWrite() {
    h.apply(binding("team-a", "quiet", "quiet-user"));
    AwsMfaBinding ready = h.awaitReady("team-a", "quiet");
    OutsideCalls vault = new OutsideCalls(h.meters);
    long vaultWrites = vault.count("vault", "WriteKey") + vault.count("vault", "DeleteKey");
    long vaultReads = vault.count("vault", "ReadKey");
    h.iamBoundary.clearCalls();

    // Two resync intervals: each looks at IAM and Vault again.
    await().atMost(Duration.ofSeconds(20)).until(() -> h.iamBoundary.count("ListMfaDevices") >= 2);

    assertThat(h.iamBoundary.calls())
        .as("IAM calls on resync")
        .isNotEmpty()
        .allMatch(op -> !SeedCapture.isWrite(op));
    assertThat(vault.count("vault", "WriteKey") + vault.count("vault", "DeleteKey"))
        .as("Vault writes on resync")
        .isEqualTo(vaultWrites);
    assertThat(vault.count("vault", "ReadKey"))
        .as("Vault reads on resync")
        .isGreaterThan(vaultReads);
    AwsMfaBinding after = h.get("team-a", "quiet");
    assertThat(after.getMetadata().getResourceVersion())
        .as("no status write on resync")
        .isEqualTo(ready.getMetadata().getResourceVersion());
  }
}
