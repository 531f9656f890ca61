package io.vaultmfa.operator.api;

/** The condition types a binding reports. {@link #Ready} summarises the other four. */
public enum ConditionType {
  Ready,
  UserReady,
  DeviceEnrolled,
  VaultKeyReady,
  SecretReady
}
