package io.vaultmfa.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The IAM user: created by the operator, or adopted when {@code create} is false. */
public class IamUserSpec {

  @Required
  @Pattern(Rules.IAM_NAME)
  @Size(min = 1, max = Rules.IAM_USER_NAME_MAX)
  @ValidationRule(value = "self == oldSelf", message = "spec.iamUser.name is immutable")
  @JsonPropertyDescription("IAM user name: 1-64 of letters, digits and _+=,.@-. Immutable.")
  private String name;

  @Default("true")
  @JsonPropertyDescription("Create the user when missing; false: the user must already exist.")
  private Boolean create = true;

  @Default("/")
  @Pattern(Rules.IAM_PATH)
  @Size(min = 1, max = Rules.IAM_PATH_MAX)
  @ValidationRule(value = "self == oldSelf", message = "spec.iamUser.path is immutable")
  @JsonPropertyDescription("IAM path for a user the operator creates, e.g. / or /ci/.")
  private String path = "/";

  @Size(max = Rules.POLICY_ARNS_MAX)
  @JsonPropertyDescription("Managed policy ARNs to attach; removing one from the list detaches it.")
  private List<@Pattern(Rules.POLICY_ARN) @Size(max = Rules.ARN_MAX) String> managedPolicyArns =
      new ArrayList<>();

  @Size(max = Rules.IAM_TAGS_MAX)
  @ValidationRule(
      value = "self.all(k, !k.startsWith('vaultmfa.io/'))",
      message = "tag keys starting with vaultmfa.io/ are reserved for the operator")
  @ValidationRule(
      value = "self.all(k, !k.lowerAscii().startsWith('aws:'))",
      message = "tag keys starting with aws: are reserved for AWS")
  @ValidationRule(
      value = "self.all(k, size(k) >= 1 && size(k) <= " + Rules.IAM_TAG_KEY_MAX + ")",
      message = "tag keys must be 1-128 characters")
  @ValidationRule(
      value = "self.all(k, k.matches(r'" + Rules.IAM_TAG_KEY + "'))",
      message = "tag keys may contain only letters, digits, spaces and _.:/=+-@")
  @JsonPropertyDescription(
      "Tags for a user the operator creates: keys of 1-128, values of at most 256 letters,"
          + " digits, spaces and _.:/=+-@.")
  private Map<String, @Pattern(Rules.IAM_TAG_VALUE) @Size(max = Rules.IAM_TAG_VALUE_MAX) String>
      tags = new LinkedHashMap<>();

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public Boolean getCreate() {
    return create;
  }

  public void setCreate(Boolean create) {
    this.create = create;
  }

  public String getPath() {
    return path;
  }

  public void setPath(String path) {
    this.path = path;
  }

  public List<String> getManagedPolicyArns() {
    return managedPolicyArns;
  }

  public void setManagedPolicyArns(List<String> managedPolicyArns) {
    this.managedPolicyArns = managedPolicyArns;
  }

  public Map<String, String> getTags() {
    return tags;
  }

  public void setTags(Map<String, String> tags) {
    this.tags = tags;
  }
}
