package io.vaultmfa.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** The virtual MFA device. */
public class MfaDeviceSpec {

  @Pattern(Rules.IAM_NAME)
  @Size(min = 1, max = Rules.MFA_DEVICE_NAME_MAX)
  @JsonPropertyDescription("Device name. Default: spec.iamUser.name. Immutable.")
  private String name;

  @Default("/")
  @Pattern(Rules.IAM_PATH)
  @Size(min = 1, max = Rules.IAM_PATH_MAX)
  @ValidationRule(value = "self == oldSelf", message = "spec.mfaDevice.path is immutable")
  @JsonPropertyDescription(
      "Device path; the serial number is arn:aws:iam::<account>:mfa<path><name>.")
  private String path = "/";

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getPath() {
    return path;
  }

  public void setPath(String path) {
    this.path = path;
  }
}
