package io.vaultmfa.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.metrics.BindingMetrics;
import io.vaultmfa.operator.testing.SettableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What a user sees with {@code kubectl get events}: one Event per repeated failure per period. */
@EnableKubernetesMockClient(crud = true)
class EventRecorderTest {

  KubernetesClient client;

  private final SettableClock clock = new SettableClock(Instant.parse("2026-12-03T10:00:00Z"));
  private EventRecorder events;

  @BeforeEach
  void setUp() {
    events = new EventRecorder(client, clock, BindingMetrics.of(new SimpleMeterRegistry()));
  }

  @Test
  void theSameWarningIsWrittenOncePerQuietPeriodAndAgainAfterIt() {
    AwsMfaBinding binding = binding("b1", "uid-1");

    events.warning(
        binding, EventReason.ReconcileFailed, "cannot write key aws-b1: Vault is sealed");
    clock.set(clock.instant().plus(Duration.ofMinutes(9)));
    events.warning(
        binding, EventReason.ReconcileFailed, "cannot write key aws-b1: Vault is sealed");
    assertThat(written()).hasSize(1);

    clock.set(clock.instant().plus(Duration.ofMinutes(2)));
    events.warning(
        binding, EventReason.ReconcileFailed, "cannot write key aws-b1: Vault is sealed");
    assertThat(written()).hasSize(2);
  }

  @Test
  void anotherMessageOrAnotherBindingIsWrittenAtOnce() {
    events.warning(binding("b1", "uid-1"), EventReason.ReconcileFailed, "Vault is sealed");
    events.warning(binding("b1", "uid-1"), EventReason.ReconcileFailed, "Vault answered 500");
    events.warning(binding("b2", "uid-2"), EventReason.ReconcileFailed, "Vault is sealed");

    assertThat(written())
        .extracting(e -> e.getInvolvedObject().getName() + ": " + e.getMessage())
        .containsExactlyInAnyOrder(
            "b1: Vault is sealed", "b1: Vault answered 500", "b2: Vault is sealed");
  }

  @Test
  void whatItRemembersStaysBoundedWhileManyBindingsEnrolWithinOnePeriod() {
    // More Events than it remembers, all within one quiet period: the case where the old
    // clean-up scanned every entry on every Event. Scaled down from the default bound.
    events = new EventRecorder(client, clock, BindingMetrics.of(new SimpleMeterRegistry()), 100);
    AwsMfaBinding binding = binding("b1", "uid-1");
    for (int i = 0; i < 300; i++) {
      binding.getMetadata().setUid("uid-" + i);
      events.normal(binding, EventReason.DeviceEnrolled, "device enrolled");
    }
    assertThat(written()).hasSize(300);
    assertThat(events.remembered()).isLessThanOrEqualTo(100);

    clock.set(clock.instant().plus(EventRecorder.QUIET).plusSeconds(1));
    assertThat(events.remembered()).isZero();
  }

  private List<Event> written() {
    return client.v1().events().inNamespace("team-a").list().getItems();
  }

  private static AwsMfaBinding binding(String name, String uid) {
    AwsMfaBinding b = new AwsMfaBinding();
    b.getMetadata().setName(name);
    b.getMetadata().setNamespace("team-a");
    b.getMetadata().setUid(uid);
    return b;
  }
}
