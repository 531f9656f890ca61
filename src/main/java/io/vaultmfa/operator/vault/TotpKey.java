package io.vaultmfa.operator.vault;

/** A TOTP key as Vault describes it. Vault never returns the seed of a key it was given. */
public record TotpKey(
    String accountName, String issuer, String algorithm, int digits, int period) {}
