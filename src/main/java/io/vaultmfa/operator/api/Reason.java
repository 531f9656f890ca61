package io.vaultmfa.operator.api;

/**
 * The closed set of condition reasons. README.md lists each with what to do about it; a test checks
 * that the two agree.
 */
public enum Reason {
  // The step holds.
  Ready(false),
  UserCreated(false),
  UserAdopted(false),
  Enrolled(false),
  KeyPresent(false),
  SecretWritten(false),

  // Not there yet, nothing wrong.
  Reconciling(false),
  WaitingForUser(false),
  WaitingForDevice(false),
  Deleting(false),

  // The spec must change.
  InvalidSpec(true),

  // Waiting on something outside the operator.
  UserNotFound(false),
  Conflict(false),
  LimitExceeded(false),
  AccessDenied(false),

  // Failures of an outside system; retried with backoff.
  Throttled(false),
  AwsError(false),
  VaultUnavailable(false),
  VaultDenied(false),
  VaultRejected(true),
  CodeMismatch(false),
  InvalidCodes(false),
  KubernetesError(false),

  // A fault of the operator itself; see its log.
  InternalError(false);

  private final boolean terminal;

  Reason(boolean terminal) {
    this.terminal = terminal;
  }

  /** True when retrying cannot help until the spec changes. */
  public boolean terminal() {
    return terminal;
  }
}
