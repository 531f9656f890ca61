package io.vaultmfa.operator.metrics;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.AwsMfaBindingStatus;
import io.vaultmfa.operator.api.ConditionType;
import io.vaultmfa.operator.api.Reason;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What bindings are and did: how many are in each Ready state, how long they took to become Ready,
 * and enrolments, rotations and drift repairs by outcome or kind. Every tag is from a closed set (a
 * condition status, a {@link Reason}, an outcome, a kind), never a name or uid.
 */
public final class BindingMetrics {

  public static final String BINDINGS = "vaultmfa.bindings";
  public static final String TIME_TO_READY = "vaultmfa.time.to.ready";
  public static final String ENROLMENTS = "vaultmfa.enrolments";
  public static final String ROTATIONS = "vaultmfa.rotations";
  public static final String DRIFT_REPAIRS = "vaultmfa.drift.repairs";
  public static final String LEADER = "vaultmfa.leader";

  /** One per registry, so that an operator started again on the same registry reuses it. */
  private static final Map<MeterRegistry, BindingMetrics> BY_REGISTRY = new WeakHashMap<>();

  /** What a drift repair put back. */
  public enum DriftKind {
    DEVICE,
    VAULT_KEY,
    USER,
    SECRET;

    String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private static final Set<String> STATUSES = Set.of("True", "False", "Unknown");

  private final Clock clock;
  private final MultiGauge bindings;
  private final Timer timeToReady;
  private final Counter enrolled;
  private final Counter enrolmentFailed;
  private final Counter rotated;
  private final Counter rotationFailed;
  private final Map<DriftKind, Counter> repairs = new EnumMap<>(DriftKind.class);
  private final Set<String> seenReady = ConcurrentHashMap.newKeySet();
  private volatile Supplier<Stream<AwsMfaBinding>> cache = Stream::empty;
  private volatile BooleanSupplier leader = () -> true;

  /** The binding metrics of this registry, registered on first use. */
  public static BindingMetrics of(MeterRegistry registry) {
    synchronized (BY_REGISTRY) {
      return BY_REGISTRY.computeIfAbsent(registry, r -> new BindingMetrics(r, Clock.systemUTC()));
    }
  }

  private BindingMetrics(MeterRegistry registry, Clock clock) {
    this.clock = clock;
    Gauge.builder(LEADER, this, m -> m.leader.getAsBoolean() ? 1 : 0)
        .description("1 when this replica leads and reconciles (always 1 without leader election)")
        .register(registry);
    this.bindings =
        MultiGauge.builder(BINDINGS)
            .description("Bindings by the status and reason of their Ready condition")
            .register(registry);
    this.timeToReady =
        Timer.builder(TIME_TO_READY)
            .description("From a binding's creation to its first Ready=True")
            .serviceLevelObjectives(
                Duration.ofSeconds(5),
                Duration.ofSeconds(10),
                Duration.ofSeconds(30),
                Duration.ofMinutes(1),
                Duration.ofMinutes(2),
                Duration.ofMinutes(5),
                Duration.ofMinutes(10),
                Duration.ofMinutes(30),
                Duration.ofHours(1),
                Duration.ofHours(6),
                Duration.ofDays(1))
            .register(registry);
    this.enrolled = outcome(registry, ENROLMENTS, "success", "Enrolments of an MFA device");
    this.enrolmentFailed = outcome(registry, ENROLMENTS, "failure", "Enrolments of an MFA device");
    this.rotated = outcome(registry, ROTATIONS, "success", "Rotations of an MFA device");
    this.rotationFailed = outcome(registry, ROTATIONS, "failure", "Rotations of an MFA device");
    for (DriftKind k : DriftKind.values()) {
      repairs.put(
          k,
          Counter.builder(DRIFT_REPAIRS)
              .description("Drift found on a resync and repaired, by what was put back")
              .tag("kind", k.tag())
              .register(registry));
    }
  }

  private static Counter outcome(MeterRegistry r, String name, String outcome, String what) {
    return Counter.builder(name).description(what).tag("outcome", outcome).register(r);
  }

  /**
   * Where the bindings are counted from (the controller's informer cache) and whether this replica
   * leads. Only the leader reports {@code vaultmfa_bindings}, so that a sum over replicas counts
   * each binding once.
   */
  public void watch(Supplier<Stream<AwsMfaBinding>> cache, BooleanSupplier leader) {
    this.cache = cache;
    this.leader = leader;
  }

  /** Recounts {@code vaultmfa_bindings} from the cache; called before each scrape. */
  public void refresh() {
    if (!leader.getAsBoolean()) {
      bindings.register(List.of(), true);
      return;
    }
    Map<Tags, Long> counts =
        cache.get().collect(Collectors.groupingBy(BindingMetrics::state, Collectors.counting()));
    bindings.register(
        counts.entrySet().stream()
            .map(e -> MultiGauge.Row.of(e.getKey(), e.getValue()))
            .collect(Collectors.toList()),
        true);
  }

  private static Tags state(AwsMfaBinding b) {
    Optional<Condition> ready =
        Optional.ofNullable(b.getStatus()).flatMap(s -> s.condition(ConditionType.Ready));
    String status = ready.map(Condition::getStatus).filter(STATUSES::contains).orElse("Unknown");
    String reason =
        ready
            .map(Condition::getReason)
            .map(r -> known(r) ? r : "Other")
            .orElse(Reason.Reconciling.name());
    return Tags.of("ready", status, "reason", reason);
  }

  private static boolean known(String reason) {
    for (Reason r : Reason.values()) {
      if (r.name().equals(reason)) {
        return true;
      }
    }
    return false;
  }

  /**
   * After a reconcile that ended well. Records the time to Ready once per binding: when Ready
   * turned True in the reconcile that enabled its first device ({@code status.enabledAt} was empty
   * before), so that a binding that recovers later is not counted again with its whole age.
   *
   * @param statusBefore the binding's status as JSON before the reconcile ("" when it had none)
   */
  public void reconciled(AwsMfaBinding after, String statusBefore) {
    String uid = after.getMetadata().getUid();
    if (uid == null || !isReady(after.getStatus()) || !seenReady.add(uid)) {
      return;
    }
    AwsMfaBindingStatus before =
        statusBefore == null || statusBefore.isEmpty()
            ? new AwsMfaBindingStatus()
            : Serialization.unmarshal(statusBefore, AwsMfaBindingStatus.class);
    if (isReady(before) || before.getEnabledAt() != null) {
      return;
    }
    parse(after.getMetadata().getCreationTimestamp())
        .map(created -> Duration.between(created, clock.instant()))
        .filter(d -> !d.isNegative())
        .ifPresent(timeToReady::record);
  }

  /** A binding is gone: forget it (the gauge forgets it by itself, through the cache). */
  public void deleted(AwsMfaBinding b) {
    Optional.ofNullable(b.getMetadata().getUid()).ifPresent(seenReady::remove);
  }

  public void enrolment(boolean success) {
    (success ? enrolled : enrolmentFailed).increment();
  }

  public void rotation(boolean success) {
    (success ? rotated : rotationFailed).increment();
  }

  public void driftRepaired(DriftKind kind) {
    repairs.get(kind).increment();
  }

  private static boolean isReady(AwsMfaBindingStatus s) {
    return s != null
        && s.condition(ConditionType.Ready).map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  private static Optional<Instant> parse(String timestamp) {
    try {
      return Optional.ofNullable(timestamp).map(Instant::parse);
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
