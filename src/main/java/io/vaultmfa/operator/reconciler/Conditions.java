package io.vaultmfa.operator.reconciler;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.vaultmfa.operator.api.AwsMfaBindingStatus;
import io.vaultmfa.operator.api.ConditionType;
import io.vaultmfa.operator.api.Reason;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Writes conditions the way the Kubernetes API conventions ask: one per type, a reason from a
 * closed set, the generation it describes, and a transition time that moves only when the status
 * flips. {@link #summarise()} derives Ready from the four step conditions.
 */
final class Conditions {

  static final String TRUE = "True";
  static final String FALSE = "False";
  static final String UNKNOWN = "Unknown";

  private static final List<ConditionType> STEPS =
      List.of(
          ConditionType.UserReady,
          ConditionType.DeviceEnrolled,
          ConditionType.VaultKeyReady,
          ConditionType.SecretReady);

  private final AwsMfaBindingStatus status;
  private final Long generation;
  private final Clock clock;

  Conditions(AwsMfaBindingStatus status, Long generation, Clock clock) {
    this.status = status;
    this.generation = generation;
    this.clock = clock;
  }

  void ok(ConditionType type, Reason reason, String message) {
    set(type, TRUE, reason, message);
  }

  void failed(ConditionType type, Reason reason, String message) {
    set(type, FALSE, reason, message);
  }

  void unknown(ConditionType type, Reason reason, String message) {
    set(type, UNKNOWN, reason, message);
  }

  void set(ConditionType type, String value, Reason reason, String message) {
    Optional<Condition> old = status.condition(type);
    String since =
        old.filter(c -> value.equals(c.getStatus()))
            .map(Condition::getLastTransitionTime)
            .orElseGet(() -> Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString());
    Condition c =
        new ConditionBuilder()
            .withType(type.name())
            .withStatus(value)
            .withReason(reason.name())
            .withMessage(message)
            .withObservedGeneration(generation)
            .withLastTransitionTime(since)
            .build();
    List<Condition> next = new ArrayList<>(status.getConditions());
    next.removeIf(x -> type.name().equals(x.getType()));
    next.add(c);
    next.sort(Comparator.comparingInt(x -> order(x.getType())));
    status.setConditions(next);
  }

  /** Steps not yet reached by this generation are marked as waiting for the one before. */
  void pending(ConditionType type, Reason reason, String message) {
    Optional<Condition> old = status.condition(type);
    if (old.isEmpty() || !TRUE.equals(old.get().getStatus())) {
      unknown(type, reason, message);
    }
  }

  /** Ready is True only when every step is; otherwise it carries the first step that is not. */
  void summarise() {
    // A step that failed explains Ready better than a later step not reached because of it.
    for (ConditionType t : STEPS) {
      Optional<Condition> c = status.condition(t);
      if (c.isPresent() && FALSE.equals(c.get().getStatus())) {
        set(ConditionType.Ready, FALSE, reasonOf(c.get()), c.get().getMessage());
        return;
      }
    }
    for (ConditionType t : STEPS) {
      Optional<Condition> c = status.condition(t);
      if (c.isEmpty()) {
        set(ConditionType.Ready, FALSE, Reason.Reconciling, t + " has not been checked yet");
        return;
      }
      if (!TRUE.equals(c.get().getStatus())) {
        set(ConditionType.Ready, FALSE, reasonOf(c.get()), c.get().getMessage());
        return;
      }
    }
    set(
        ConditionType.Ready,
        TRUE,
        Reason.Ready,
        "MFA device enabled and its seed held in Vault at " + status.getVaultCodePath());
  }

  /** A reason written by another version of the operator may not be in this enum. */
  private static Reason reasonOf(Condition c) {
    try {
      return Reason.valueOf(c.getReason());
    } catch (IllegalArgumentException | NullPointerException e) {
      return Reason.Reconciling;
    }
  }

  private static int order(String type) {
    try {
      return ConditionType.valueOf(type).ordinal();
    } catch (IllegalArgumentException e) {
      return Integer.MAX_VALUE;
    }
  }
}
