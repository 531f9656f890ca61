package io.vaultmfa.operator.api;

/** What happens outside the cluster when a binding is deleted. */
public enum DeletionPolicy {
  /** Deactivate and delete the device, delete the Vault key, and the user if we created it. */
  Delete,
  /** Leave IAM and Vault as they are. */
  Retain
}
