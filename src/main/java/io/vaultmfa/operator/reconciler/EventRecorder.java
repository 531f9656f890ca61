package io.vaultmfa.operator.reconciler;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vaultmfa.operator.metrics.BindingMetrics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Emits core/v1 Events on bindings. The same reason and message for the same object is sent at most
 * once per {@link #QUIET} period, so that a binding stuck in a retry loop does not flood the
 * namespace. The Events sent are remembered for that period, at most {@value #REMEMBERED} of them
 * by default (beyond that the least used are forgotten early, which at worst repeats an Event). An
 * Event that cannot be written is logged and dropped: it never fails a reconcile.
 */
final class EventRecorder {

  static final Duration QUIET = Duration.ofMinutes(10);
  static final int REMEMBERED = 10_000;
  private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
  private static final String COMPONENT = "vault-mfa-operator";

  private final KubernetesClient client;
  private final Clock clock;
  private final BindingMetrics metrics;
  private final Cache<String, Instant> recent;

  EventRecorder(KubernetesClient client, Clock clock, BindingMetrics metrics) {
    this(client, clock, metrics, REMEMBERED);
  }

  EventRecorder(KubernetesClient client, Clock clock, BindingMetrics metrics, int remembered) {
    this.client = client;
    this.clock = clock;
    this.metrics = metrics;
    this.recent =
        Caffeine.newBuilder()
            .expireAfterWrite(QUIET)
            .maximumSize(remembered)
            .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
            .executor(Runnable::run)
            .build();
  }

  /** How many Events are remembered now, after expired ones are dropped; for tests. */
  long remembered() {
    recent.cleanUp();
    return recent.estimatedSize();
  }

  void normal(HasMetadata on, EventReason reason, String message) {
    emit(on, reason, message);
  }

  void warning(HasMetadata on, EventReason reason, String message) {
    emit(on, reason, message);
  }

  /** Each Event marks a step that happened; some are counted, before de-duplication. */
  private void count(EventReason reason) {
    switch (reason) {
      case DeviceEnrolled -> metrics.enrolment(true);
      case EnrolmentRolledBack -> metrics.enrolment(false);
      default -> {}
    }
  }

  private void emit(HasMetadata on, EventReason reason, String message) {
    count(reason);
    Instant now = Instant.now(clock);
    String key = on.getMetadata().getUid() + "|" + reason + "|" + message;
    if (recent.asMap().putIfAbsent(key, now) != null) {
      LOG.debug("{}: {} (Event not repeated)", reason, message);
      return;
    }
    // One log line per change made or failure met; namespace and name come from the MDC.
    LOG.info("{}: {}", reason, message);
    String ns = on.getMetadata().getNamespace();
    try {
      client
          .v1()
          .events()
          .inNamespace(ns)
          .resource(
              new EventBuilder()
                  .withNewMetadata()
                  .withName(
                      on.getMetadata().getName()
                          + "."
                          + UUID.randomUUID().toString().substring(0, 8))
                  .withNamespace(ns)
                  .endMetadata()
                  .withInvolvedObject(
                      new ObjectReferenceBuilder()
                          .withApiVersion(on.getApiVersion())
                          .withKind(on.getKind())
                          .withName(on.getMetadata().getName())
                          .withNamespace(ns)
                          .withUid(on.getMetadata().getUid())
                          .withResourceVersion(on.getMetadata().getResourceVersion())
                          .build())
                  .withType(reason.type())
                  .withReason(reason.name())
                  .withMessage(message)
                  .withFirstTimestamp(now.toString())
                  .withLastTimestamp(now.toString())
                  .withCount(1)
                  .withNewSource(COMPONENT, null)
                  .withReportingComponent(COMPONENT)
                  .build())
          .create();
    } catch (RuntimeException e) {
      LOG.debug(
          "cannot write Event {} on {}/{}: {}",
          reason,
          ns,
          on.getMetadata().getName(),
          e.getMessage());
    }
  }
}
