package io.vaultmfa.operator.iam;

import java.time.Instant;

/** An MFA device assigned to (enabled on) a user. */
public record MfaDevice(String serialNumber, Instant enabledAt) {

  public boolean isVirtual() {
    return serialNumber.contains(":mfa/");
  }
}
