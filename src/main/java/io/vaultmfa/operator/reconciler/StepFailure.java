package io.vaultmfa.operator.reconciler;

import io.vaultmfa.operator.api.ConditionType;
import io.vaultmfa.operator.api.Reason;
import io.vaultmfa.operator.outside.OutsideCallException;

/** A step of the lifecycle could not finish; says which step, why, and whether to retry. */
class StepFailure extends RuntimeException {

  private final ConditionType step;
  private final Reason reason;

  StepFailure(ConditionType step, Reason reason, String message) {
    super(message);
    this.step = step;
    this.reason = reason;
  }

  StepFailure(ConditionType step, Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.step = step;
    this.reason = reason;
  }

  /** The failure of an outside call during a step, with the reason its outcome implies. */
  static StepFailure of(ConditionType step, OutsideCallException e) {
    ConditionType where = e.system().equals("vault") ? ConditionType.VaultKeyReady : step;
    return new StepFailure(where, reasonFor(e), e.getMessage(), e);
  }

  static Reason reasonFor(OutsideCallException e) {
    boolean vault = e.system().equals("vault");
    if (e.hasCode("LimitExceeded")) {
      return Reason.LimitExceeded;
    }
    return switch (e.outcome()) {
      case THROTTLED -> vault ? Reason.VaultUnavailable : Reason.Throttled;
      case DENIED -> vault ? Reason.VaultDenied : Reason.AccessDenied;
      case CONFLICT -> Reason.Conflict;
      case INVALID -> vault ? Reason.VaultRejected : Reason.AwsError;
      case NOT_FOUND, RETRYABLE -> vault ? Reason.VaultUnavailable : Reason.AwsError;
    };
  }

  ConditionType step() {
    return step;
  }

  Reason reason() {
    return reason;
  }

  boolean terminal() {
    return reason.terminal();
  }
}
