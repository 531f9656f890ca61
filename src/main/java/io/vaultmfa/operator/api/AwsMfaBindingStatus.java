package io.vaultmfa.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** What is true outside the cluster, as last observed. Never holds the seed. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AwsMfaBindingStatus {

  private Long observedGeneration;
  private String accountId;
  private String userArn;
  private String serialNumber;
  private String vaultCodePath;
  private String secretName;
  private String enabledAt;
  private String rotatedAt;

  /** The spec.rotation.token the enabled device was made for (changing the spec's rotates). */
  private String rotationToken;

  /** Policies the operator attached, so that it detaches only those. */
  private List<String> attachedPolicyArns;

  private List<Condition> conditions = new ArrayList<>();

  public Optional<Condition> condition(ConditionType type) {
    return conditions.stream().filter(c -> type.name().equals(c.getType())).findFirst();
  }

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public String getAccountId() {
    return accountId;
  }

  public void setAccountId(String accountId) {
    this.accountId = accountId;
  }

  public String getUserArn() {
    return userArn;
  }

  public void setUserArn(String userArn) {
    this.userArn = userArn;
  }

  public String getSerialNumber() {
    return serialNumber;
  }

  public void setSerialNumber(String serialNumber) {
    this.serialNumber = serialNumber;
  }

  public String getVaultCodePath() {
    return vaultCodePath;
  }

  public void setVaultCodePath(String vaultCodePath) {
    this.vaultCodePath = vaultCodePath;
  }

  public String getSecretName() {
    return secretName;
  }

  public void setSecretName(String secretName) {
    this.secretName = secretName;
  }

  public String getEnabledAt() {
    return enabledAt;
  }

  public void setEnabledAt(String enabledAt) {
    this.enabledAt = enabledAt;
  }

  public String getRotatedAt() {
    return rotatedAt;
  }

  public void setRotatedAt(String rotatedAt) {
    this.rotatedAt = rotatedAt;
  }

  public String getRotationToken() {
    return rotationToken;
  }

  public void setRotationToken(String rotationToken) {
    this.rotationToken = rotationToken;
  }

  public List<String> getAttachedPolicyArns() {
    return attachedPolicyArns;
  }

  public void setAttachedPolicyArns(List<String> attachedPolicyArns) {
    this.attachedPolicyArns = attachedPolicyArns;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }
}
