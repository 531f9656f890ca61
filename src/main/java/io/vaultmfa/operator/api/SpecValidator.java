package io.vaultmfa.operator.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Checks a spec against the same rules the CRD schema carries, plus those the schema cannot see. A
 * real API server refuses most bad input at apply time; this is the second line, for servers that
 * do not enforce the schema and for rules across fields.
 */
public final class SpecValidator {

  private SpecValidator() {}

  /** Each problem as "field: rule"; empty when the spec is valid. */
  public static List<String> problems(AwsMfaBinding binding) {
    List<String> p = new ArrayList<>();
    AwsMfaBindingSpec spec = binding.getSpec();
    if (spec == null || spec.getIamUser() == null) {
      p.add("spec.iamUser: is required");
      return p;
    }
    IamUserSpec user = spec.getIamUser();
    name(p, "spec.iamUser.name", user.getName(), Rules.IAM_USER_NAME_MAX);
    path(p, "spec.iamUser.path", user.getPath());
    if (user.getManagedPolicyArns() != null) {
      for (int i = 0; i < user.getManagedPolicyArns().size(); i++) {
        match(
            p,
            "spec.iamUser.managedPolicyArns[" + i + "]",
            user.getManagedPolicyArns().get(i),
            Rules.POLICY_ARN,
            "must be an IAM policy ARN (arn:aws:iam::<account>:policy/<name>)");
      }
    }
    if (user.getTags() != null) {
      for (Map.Entry<String, String> t : user.getTags().entrySet()) {
        if (t.getKey().startsWith("vaultmfa.io/")) {
          p.add(
              "spec.iamUser.tags["
                  + t.getKey()
                  + "]: keys starting with vaultmfa.io/ are "
                  + "reserved for the operator");
        }
      }
    }
    if (spec.getMfaDevice() != null) {
      if (spec.getMfaDevice().getName() != null) {
        name(p, "spec.mfaDevice.name", spec.getMfaDevice().getName(), Rules.MFA_DEVICE_NAME_MAX);
      }
      path(p, "spec.mfaDevice.path", spec.getMfaDevice().getPath());
    }
    VaultSpec vault = spec.getVault();
    if (vault != null) {
      if (vault.getMount() != null) {
        match(
            p,
            "spec.vault.mount",
            vault.getMount(),
            Rules.VAULT_MOUNT,
            "must be a mount path such as totp or team/totp");
      }
      if (vault.getKeyName() != null) {
        keyName(p, "spec.vault.keyName", vault.getKeyName());
      }
    }
    if (vault == null || vault.getKeyName() == null) {
      String def = binding.getMetadata().getNamespace() + "." + binding.getMetadata().getName();
      keyName(p, "spec.vault.keyName (default " + def + ")", def);
    }
    if (spec.getSecretName() == null && binding.getMetadata().getName().length() > 249) {
      p.add("spec.secretName (default <name>-mfa): must be at most 253 characters; set one");
    }
    if (spec.getSecretName() != null) {
      match(
          p,
          "spec.secretName",
          spec.getSecretName(),
          Rules.K8S_NAME,
          "must be a Kubernetes object name (lower case letters, digits, '-' and '.')");
    }
    if (spec.getAws() != null && spec.getAws().getRoleArn() != null) {
      match(
          p,
          "spec.aws.roleArn",
          spec.getAws().getRoleArn(),
          Rules.ROLE_ARN,
          "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)");
    }
    if (spec.getRotation() != null && spec.getRotation().getInterval() != null) {
      match(
          p,
          "spec.rotation.interval",
          spec.getRotation().getInterval(),
          Rules.DURATION,
          "must be a duration such as 2160h");
    }
    return p;
  }

  private static void name(List<String> p, String field, String v, int max) {
    if (v == null || v.isEmpty()) {
      p.add(field + ": is required");
    } else if (v.length() > max) {
      p.add(field + ": must be at most " + max + " characters");
    } else {
      match(p, field, v, Rules.IAM_NAME, "may contain only letters, digits and _+=,.@-");
    }
  }

  private static void path(List<String> p, String field, String v) {
    if (v != null) {
      if (v.length() > Rules.IAM_PATH_MAX) {
        p.add(field + ": must be at most " + Rules.IAM_PATH_MAX + " characters");
      } else {
        match(p, field, v, Rules.IAM_PATH, "must be / or start and end with / (e.g. /ci/)");
      }
    }
  }

  private static void keyName(List<String> p, String field, String v) {
    if (v.length() > Rules.VAULT_KEY_NAME_MAX) {
      p.add(field + ": must be at most " + Rules.VAULT_KEY_NAME_MAX + " characters");
    } else {
      match(
          p,
          field,
          v,
          Rules.VAULT_KEY_NAME,
          "must match Vault's key name rule \\w(([\\w-.@]+)?\\w)?: letters, digits, _ . @ -,"
              + " starting and ending with a letter, digit or _");
    }
  }

  private static void match(List<String> p, String field, String v, String regex, String rule) {
    if (v == null || !v.matches(regex)) {
      p.add(field + ": " + rule);
    }
  }
}
