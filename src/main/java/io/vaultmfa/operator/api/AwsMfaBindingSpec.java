package io.vaultmfa.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** What the user asks for. Field rules live here so that the CRD carries them. */
@ValidationRule(
    value =
        "(has(self.mfaDevice) && has(self.mfaDevice.name) ? self.mfaDevice.name : '')"
            + " == (has(oldSelf.mfaDevice) && has(oldSelf.mfaDevice.name)"
            + " ? oldSelf.mfaDevice.name : '')",
    message = "spec.mfaDevice.name is immutable",
    fieldPath = ".mfaDevice.name")
@ValidationRule(
    value =
        "(has(self.vault) && has(self.vault.keyName) ? self.vault.keyName : '')"
            + " == (has(oldSelf.vault) && has(oldSelf.vault.keyName)"
            + " ? oldSelf.vault.keyName : '')",
    message = "spec.vault.keyName is immutable: the seed cannot be moved to another key",
    fieldPath = ".vault.keyName")
@ValidationRule(
    value =
        "(has(self.vault) && has(self.vault.mount) ? self.vault.mount : '')"
            + " == (has(oldSelf.vault) && has(oldSelf.vault.mount)"
            + " ? oldSelf.vault.mount : '')",
    message = "spec.vault.mount is immutable: the seed cannot be moved to another mount",
    fieldPath = ".vault.mount")
public class AwsMfaBindingSpec {

  @Required
  @JsonPropertyDescription("The IAM user that gets the MFA device.")
  private IamUserSpec iamUser;

  @JsonPropertyDescription("The virtual MFA device.")
  private MfaDeviceSpec mfaDevice;

  @JsonPropertyDescription("Where the seed is kept in Vault's TOTP secrets engine.")
  private VaultSpec vault;

  @Pattern(Rules.K8S_NAME)
  @Size(max = 253)
  @JsonPropertyDescription("Name of the output Secret. Default: <metadata.name>-mfa.")
  private String secretName;

  @Default("Delete")
  @JsonPropertyDescription(
      "Delete: on deletion remove the device, the Vault key and the user if the operator "
          + "created it. Retain: leave IAM and Vault untouched.")
  private DeletionPolicy deletionPolicy = DeletionPolicy.Delete;

  @JsonPropertyDescription("Rotation of the device (make-before-break).")
  private RotationSpec rotation;

  @JsonPropertyDescription("AWS access for this binding.")
  private AwsSpec aws;

  public IamUserSpec getIamUser() {
    return iamUser;
  }

  public void setIamUser(IamUserSpec iamUser) {
    this.iamUser = iamUser;
  }

  public MfaDeviceSpec getMfaDevice() {
    return mfaDevice;
  }

  public void setMfaDevice(MfaDeviceSpec mfaDevice) {
    this.mfaDevice = mfaDevice;
  }

  public VaultSpec getVault() {
    return vault;
  }

  public void setVault(VaultSpec vault) {
    this.vault = vault;
  }

  public String getSecretName() {
    return secretName;
  }

  public void setSecretName(String secretName) {
    this.secretName = secretName;
  }

  public DeletionPolicy getDeletionPolicy() {
    return deletionPolicy;
  }

  public void setDeletionPolicy(DeletionPolicy deletionPolicy) {
    this.deletionPolicy = deletionPolicy;
  }

  public RotationSpec getRotation() {
    return rotation;
  }

  public void setRotation(RotationSpec rotation) {
    this.rotation = rotation;
  }

  public AwsSpec getAws() {
    return aws;
  }

  public void setAws(AwsSpec aws) {
    this.aws = aws;
  }
}
