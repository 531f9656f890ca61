package io.vaultmfa.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;

/** AWS access for one binding. */
public class AwsSpec {

  @Pattern(Rules.ROLE_ARN)
  @Size(max = 2048)
  @JsonPropertyDescription("Assume this role for this binding's IAM calls.")
  private String roleArn;

  public String getRoleArn() {
    return roleArn;
  }

  public void setRoleArn(String roleArn) {
    this.roleArn = roleArn;
  }
}
