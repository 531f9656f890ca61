package io.vaultmfa.operator.iam;

import io.vaultmfa.operator.totp.Seed;

/** A virtual device just created, with the seed IAM returns once and never again. */
public record CreatedDevice(String serialNumber, Seed seed) {}
