package io.vaultmfa.operator.reconciler;

/** Reasons of the Events the operator emits. Normal for changes made, Warning for failures. */
enum EventReason {
  UserCreated(false),
  UserAdopted(false),
  PolicyAttached(false),
  PolicyDetached(false),
  DeviceEnrolled(false),
  LeftoverDeviceRemoved(false),
  DriftRepaired(false),
  Rotated(false),
  SecretWritten(false),
  DeviceDeleted(false),
  VaultKeyDeleted(false),
  UserDeleted(false),
  UserKept(false),
  VaultKeyKept(false),
  Retained(false),
  InvalidSpec(true),
  ReconcileFailed(true),
  EnrolmentRolledBack(true),
  CleanupFailed(true);

  private final boolean warning;

  EventReason(boolean warning) {
    this.warning = warning;
  }

  String type() {
    return warning ? "Warning" : "Normal";
  }
}
