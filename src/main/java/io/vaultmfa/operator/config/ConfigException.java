package io.vaultmfa.operator.config;

/** A setting is missing or malformed; start-up stops with this message. */
public class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
