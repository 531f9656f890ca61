package io.vaultmfa.operator.reconciler;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.testing.WithOperator;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Invariant I5 and the target of issue 6: one resync of a Ready binding makes no write and at most
 * two outside reads, ListMFADevices (which also proves the user exists) and the Vault key read. The
 * device's tags are read once per operator process, not on every resync. One binding in this class,
 * so that every call counted is its own; its user also carries a device a person enabled.
 */
class ResyncCostIT extends WithOperator {

  static final int RESYNCS = 3;

  @BeforeAll
  static void prepare() {
    h.stopOperator();
    h.startOperator(Map.of(Setting.RESYNC_INTERVAL, "2s"));
  }

  @Test
  void resyncOfAReadyBindingIsTwoReadsAndNoWrite() {
    OutsideCallCounts start = OutsideCallCounts.of(h.meters);
    h.apply(binding("cost", "idle", "cost-idle"));
    AwsMfaBinding ready = h.awaitReady("cost", "idle");
    RotationIT.enablePersonsDeviceOn(h, "cost-idle", "cost-idle-phone");
    OutsideCallCounts created = OutsideCallCounts.of(h.meters);
    System.out.println("outside calls to enrol one binding: " + created.since(start));

    // The first resyncs read the tags of the devices not seen before; then they are known.
    long readKeys = created.get("vault/ReadKey");
    await().atMost(Duration.ofSeconds(30)).until(() -> readKeys(h) >= readKeys + 2);
    OutsideCallCounts before = OutsideCallCounts.of(h.meters);
    String bindingVersion = h.get("cost", "idle").getMetadata().getResourceVersion();
    String secretVersion = h.secret("cost", "idle-mfa").getMetadata().getResourceVersion();
    int events = h.events("cost").size();

    // The Vault read is the last outside call of a resync: counted, the resync is over.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> readKeys(h) >= before.get("vault/ReadKey") + RESYNCS);
    OutsideCallCounts resyncs = OutsideCallCounts.of(h.meters).since(before);
    System.out.println("outside calls of " + RESYNCS + " resyncs of a Ready binding: " + resyncs);

    assertThat(resyncs.writes()).as("writes in %d resyncs: %s", RESYNCS, resyncs).isEmpty();
    assertThat(resyncs.reads())
        .as("outside reads in %d resyncs: %s", RESYNCS, resyncs)
        .isEqualTo(2L * RESYNCS);
    assertThat(resyncs.get("iam/ListMFADevices")).isEqualTo(RESYNCS);
    assertThat(resyncs.get("vault/ReadKey")).isEqualTo(RESYNCS);
    AwsMfaBinding after = h.get("cost", "idle");
    assertThat(after.getMetadata().getResourceVersion())
        .as("no status write")
        .isEqualTo(bindingVersion);
    assertThat(after.getStatus().getSerialNumber()).isEqualTo(ready.getStatus().getSerialNumber());
    assertThat(h.secret("cost", "idle-mfa").getMetadata().getResourceVersion())
        .as("no Secret write")
        .isEqualTo(secretVersion);
    assertThat(h.events("cost")).as("no Event").hasSize(events);
  }

  private static long readKeys(io.vaultmfa.operator.testing.OperatorHarness h) {
    return OutsideCallCounts.of(h.meters).get("vault/ReadKey");
  }
}
