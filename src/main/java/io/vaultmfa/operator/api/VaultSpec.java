package io.vaultmfa.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** Where the seed goes in Vault. */
public class VaultSpec {

  @Pattern(Rules.VAULT_MOUNT)
  @Size(min = 1, max = Rules.VAULT_MOUNT_MAX)
  @ValidationRule(
      value = "!self.matches(r'" + Rules.VAULT_RESERVED_MOUNT + "')",
      message = "sys/, auth/, identity/ and cubbyhole/ are Vault's own paths, not a TOTP mount")
  @JsonPropertyDescription("TOTP secrets engine mount. Default: the operator's configured mount.")
  private String mount;

  @Pattern(Rules.VAULT_KEY_NAME)
  @Size(min = 1, max = Rules.VAULT_KEY_NAME_MAX)
  @JsonPropertyDescription(
      "TOTP key name, Vault's rule \\w(([\\w-.@]+)?\\w)?. Default: <namespace>.<name>. Immutable.")
  private String keyName;

  @Default("Amazon Web Services")
  @Size(min = 1, max = Rules.VAULT_ISSUER_MAX)
  @JsonPropertyDescription("Issuer recorded with the key.")
  private String issuer = "Amazon Web Services";

  public String getMount() {
    return mount;
  }

  public void setMount(String mount) {
    this.mount = mount;
  }

  public String getKeyName() {
    return keyName;
  }

  public void setKeyName(String keyName) {
    this.keyName = keyName;
  }

  public String getIssuer() {
    return issuer;
  }

  public void setIssuer(String issuer) {
    this.issuer = issuer;
  }
}
