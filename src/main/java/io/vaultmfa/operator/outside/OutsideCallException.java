package io.vaultmfa.operator.outside;

import java.util.Locale;

/**
 * A failed call to an outside system, classified. The message is stable across retries (no request
 * ids) and never carries a seed: gateways build it from the error code and the remote error text
 * only.
 */
public class OutsideCallException extends RuntimeException {

  private final String system;
  private final String operation;
  private final Outcome outcome;
  private final String code;

  public OutsideCallException(
      String system, String operation, Outcome outcome, String code, String detail) {
    super(format(operation, code, detail));
    this.system = system;
    this.operation = operation;
    this.outcome = outcome;
    this.code = code;
  }

  private static String format(String operation, String code, String detail) {
    StringBuilder b = new StringBuilder("cannot ").append(operation);
    if (code != null && !code.isBlank()) {
      b.append(": ").append(code);
    }
    if (detail != null && !detail.isBlank()) {
      b.append(": ").append(detail.strip());
    }
    return b.toString();
  }

  public String system() {
    return system;
  }

  public String operation() {
    return operation;
  }

  public Outcome outcome() {
    return outcome;
  }

  /** The remote error code, e.g. {@code NoSuchEntity} or {@code 403}; may be empty. */
  public String code() {
    return code == null ? "" : code;
  }

  public boolean is(Outcome o) {
    return outcome == o;
  }

  public boolean hasCode(String c) {
    return code != null && code.toLowerCase(Locale.ROOT).equals(c.toLowerCase(Locale.ROOT));
  }
}
