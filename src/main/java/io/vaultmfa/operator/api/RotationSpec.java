package io.vaultmfa.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;

/**
 * Rotation requests. Accepted by the schema now; the operator acts on them once rotation is
 * implemented (see README, "Limitations").
 */
public class RotationSpec {

  @Size(max = 253)
  @JsonPropertyDescription("Change this value to rotate the device now.")
  private String token;

  @Pattern(Rules.DURATION)
  @JsonPropertyDescription("Rotate on a schedule, as a Go duration such as 2160h.")
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
