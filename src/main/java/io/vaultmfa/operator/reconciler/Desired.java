package io.vaultmfa.operator.reconciler;

import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.AwsMfaBindingSpec;
import io.vaultmfa.operator.api.DeletionPolicy;
import io.vaultmfa.operator.api.IamUserSpec;
import io.vaultmfa.operator.iam.Ownership;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A binding's spec with every default filled in: the names the steps act on. */
record Desired(
    String userName,
    boolean createUser,
    String userPath,
    List<String> policyArns,
    Map<String, String> userTags,
    String deviceName,
    String devicePath,
    String mount,
    String keyName,
    String issuer,
    String secretName,
    DeletionPolicy deletionPolicy,
    Optional<String> roleArn,
    Ownership ownership) {

  static Desired of(AwsMfaBinding b, String defaultMount, String clusterId) {
    // An invalid spec may lack required parts; it is refused by SpecValidator, but the status
    // is still written through a Desired, so fill in blanks rather than fail here.
    AwsMfaBindingSpec s = b.getSpec() == null ? new AwsMfaBindingSpec() : b.getSpec();
    if (s.getIamUser() == null) {
      s = copyWithUser(s);
    }
    String ns = b.getMetadata().getNamespace();
    String name = b.getMetadata().getName();
    String userName = s.getIamUser().getName() == null ? "" : s.getIamUser().getName();
    var device = s.getMfaDevice();
    var vault = s.getVault();
    return new Desired(
        userName,
        !Boolean.FALSE.equals(s.getIamUser().getCreate()),
        orDefault(s.getIamUser().getPath(), "/"),
        s.getIamUser().getManagedPolicyArns() == null
            ? List.of()
            : List.copyOf(s.getIamUser().getManagedPolicyArns()),
        s.getIamUser().getTags() == null ? Map.of() : Map.copyOf(s.getIamUser().getTags()),
        device == null ? userName : orDefault(device.getName(), userName),
        device == null ? "/" : orDefault(device.getPath(), "/"),
        vault == null ? defaultMount : orDefault(vault.getMount(), defaultMount),
        vault == null ? ns + "." + name : orDefault(vault.getKeyName(), ns + "." + name),
        vault == null ? "Amazon Web Services" : orDefault(vault.getIssuer(), "Amazon Web Services"),
        orDefault(s.getSecretName(), name + "-mfa"),
        s.getDeletionPolicy() == null ? DeletionPolicy.Delete : s.getDeletionPolicy(),
        Optional.ofNullable(s.getAws()).map(a -> a.getRoleArn()).filter(r -> !r.isEmpty()),
        new Ownership(clusterId, b.getMetadata().getUid(), ns + "/" + name));
  }

  private static AwsMfaBindingSpec copyWithUser(AwsMfaBindingSpec s) {
    AwsMfaBindingSpec c = new AwsMfaBindingSpec();
    c.setIamUser(new IamUserSpec());
    c.setMfaDevice(s.getMfaDevice());
    c.setVault(s.getVault());
    c.setSecretName(s.getSecretName());
    c.setDeletionPolicy(s.getDeletionPolicy());
    return c;
  }

  String codePath() {
    return mount + "/code/" + keyName;
  }

  private static String orDefault(String v, String d) {
    return v == null || v.isEmpty() ? d : v;
  }
}
