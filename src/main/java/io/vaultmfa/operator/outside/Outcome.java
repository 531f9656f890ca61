package io.vaultmfa.operator.outside;

/** How a failed call to IAM, STS or Vault should be treated. */
public enum Outcome {
  /** Try again with backoff: 5xx, timeouts, connection refused, a sealed Vault. */
  RETRYABLE,
  /** The remote side asked us to slow down. */
  THROTTLED,
  /** Credentials or policy do not allow the call. */
  DENIED,
  /** Something else holds the name, a concurrent change, or a quota is full. */
  CONFLICT,
  /** The object is not there. Usually an observation, not an error. */
  NOT_FOUND,
  /** The request itself is wrong; repeating it gives the same answer. */
  INVALID
}
