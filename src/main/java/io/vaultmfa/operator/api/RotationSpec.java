package io.vaultmfa.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;

/**
 * When to replace the device with a new one, make-before-break: a change of {@code token} rotates
 * once, and {@code interval} rotates on a schedule counted from the device's enable date.
 */
public class RotationSpec {

  @Size(max = 253)
  @JsonPropertyDescription(
      "Change this value to rotate the device now: a new device is enabled, the Vault key swapped to"
          + " its seed, then the old device removed. Rotates once per value.")
  private String token;

  @Pattern(Rules.DURATION)
  @JsonPropertyDescription(
      "Rotate on a schedule, as a Go duration such as 2160h, counted from when the current device"
          + " was enabled. Shorter than 30s counts as 30s.")
  private String interval;

  public String getToken() {
    return token;
  }

  public void setToken(String token) {
    this.token = token;
  }

  public String getInterval() {
    return interval;
  }

  public void setInterval(String interval) {
    this.interval = interval;
  }
}
