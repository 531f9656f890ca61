package io.vaultmfa.operator.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
    List<String> arns = user.getManagedPolicyArns();
    if (arns != null) {
      if (arns.size() > Rules.POLICY_ARNS_MAX) {
        p.add(
            "spec.iamUser.managedPolicyArns: must have at most "
                + Rules.POLICY_ARNS_MAX
                + " items");
      }
      for (int i = 0; i < arns.size(); i++) {
        arn(
            p,
            "spec.iamUser.managedPolicyArns[" + i + "]",
            arns.get(i),
            Rules.POLICY_ARN,
            "must be an IAM policy ARN (arn:aws:iam::<account>:policy/<name>)");
      }
    }
    tags(p, user.getTags());
    if (spec.getMfaDevice() != null) {
      if (spec.getMfaDevice().getName() != null) {
        name(p, "spec.mfaDevice.name", spec.getMfaDevice().getName(), Rules.MFA_DEVICE_NAME_MAX);
      }
      path(p, "spec.mfaDevice.path", spec.getMfaDevice().getPath());
    }
    VaultSpec vault = spec.getVault();
    if (vault != null) {
      if (vault.getMount() != null) {
        mount(p, vault.getMount());
      }
      if (vault.getKeyName() != null) {
        keyName(p, "spec.vault.keyName", vault.getKeyName());
      }
      if (vault.getIssuer() != null) {
        length(p, "spec.vault.issuer", vault.getIssuer(), 1, Rules.VAULT_ISSUER_MAX);
      }
    }
    if (vault == null || vault.getKeyName() == null) {
      String def = binding.getMetadata().getNamespace() + "." + binding.getMetadata().getName();
      keyName(p, "spec.vault.keyName (default " + def + ")", def);
    }
    if (spec.getSecretName() == null && binding.getMetadata().getName().length() > 249) {
      p.add("spec.secretName (default <name>-mfa): must be at most 253 characters; set one");
    }
    if (spec.getSecretName() != null
        && length(p, "spec.secretName", spec.getSecretName(), 1, Rules.K8S_NAME_MAX)) {
      match(
          p,
          "spec.secretName",
          spec.getSecretName(),
          Rules.K8S_NAME,
          "must be a Kubernetes object name (lower case letters, digits, '-' and '.')");
    }
    if (spec.getAws() != null && spec.getAws().getRoleArn() != null) {
      arn(
          p,
          "spec.aws.roleArn",
          spec.getAws().getRoleArn(),
          Rules.ROLE_ARN,
          "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)");
    }
    if (spec.getRotation() != null && spec.getRotation().getToken() != null) {
      length(p, "spec.rotation.token", spec.getRotation().getToken(), 0, Rules.ROTATION_TOKEN_MAX);
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
    if (v == null) {
      p.add(field + ": is required");
    } else if (length(p, field, v, 1, max)) {
      match(p, field, v, Rules.IAM_NAME, "may contain only letters, digits and _+=,.@-");
    }
  }

  private static void path(List<String> p, String field, String v) {
    if (v != null && length(p, field, v, 1, Rules.IAM_PATH_MAX)) {
      match(p, field, v, Rules.IAM_PATH, "must be / or start and end with / (e.g. /ci/)");
    }
  }

  private static void mount(List<String> p, String v) {
    String field = "spec.vault.mount";
    if (!length(p, field, v, 1, Rules.VAULT_MOUNT_MAX)) {
      return;
    }
    if (!v.matches(Rules.VAULT_MOUNT)) {
      p.add(
          field
              + ": must be a mount path such as totp or team/totp (letters, digits, _ and -,"
              + " segments separated by /, no leading or trailing /)");
    } else if (v.matches(Rules.VAULT_RESERVED_MOUNT)) {
      p.add(
          field
              + ": sys/, auth/, identity/ and cubbyhole/ are Vault's own paths, not a TOTP mount");
    }
  }

  private static void keyName(List<String> p, String field, String v) {
    if (length(p, field, v, 1, Rules.VAULT_KEY_NAME_MAX)) {
      match(
          p,
          field,
          v,
          Rules.VAULT_KEY_NAME,
          "must match Vault's key name rule \\w(([\\w-.@]+)?\\w)?: letters, digits, _ . @ -,"
              + " starting and ending with a letter, digit or _");
    }
  }

  private static void arn(List<String> p, String field, String v, String regex, String rule) {
    if (v != null && v.length() > Rules.ARN_MAX) {
      p.add(field + ": must be at most " + Rules.ARN_MAX + " characters");
    } else {
      match(p, field, v, regex, rule);
    }
  }

  /** IAM's tag rules, which the operator applies to a user it creates. */
  private static void tags(List<String> p, Map<String, String> tags) {
    if (tags == null) {
      return;
    }
    if (tags.size() > Rules.IAM_TAGS_MAX) {
      p.add("spec.iamUser.tags: must have at most " + Rules.IAM_TAGS_MAX + " items");
    }
    for (Map.Entry<String, String> t : tags.entrySet()) {
      String k = t.getKey();
      String field = "spec.iamUser.tags[" + k + "]";
      if (k.startsWith("vaultmfa.io/")) {
        p.add(field + ": keys starting with vaultmfa.io/ are reserved for the operator");
      } else if (k.toLowerCase(Locale.ROOT).startsWith("aws:")) {
        p.add(field + ": keys starting with aws: are reserved for AWS");
      } else if (characters(k) < 1 || characters(k) > Rules.IAM_TAG_KEY_MAX) {
        p.add(field + ": tag keys must be 1-" + Rules.IAM_TAG_KEY_MAX + " characters");
      } else if (!k.matches(Rules.IAM_TAG_KEY)) {
        p.add(field + ": tag keys may contain only letters, digits, spaces and _.:/=+-@");
      }
      String v = t.getValue();
      if (v == null) {
        continue;
      }
      if (characters(v) > Rules.IAM_TAG_VALUE_MAX) {
        p.add(field + ": tag values must be at most " + Rules.IAM_TAG_VALUE_MAX + " characters");
      } else if (!v.matches(Rules.IAM_TAG_VALUE)) {
        p.add(field + ": tag values may contain only letters, digits, spaces and _.:/=+-@");
      }
    }
  }

  /**
   * Adds a problem unless {@code v} has {@code min} to {@code max} characters, counted as
   * Kubernetes counts them (Unicode code points); true when it has.
   */
  private static boolean length(List<String> p, String field, String v, int min, int max) {
    int n = characters(v);
    if (n < min && min == 1) {
      p.add(field + ": must not be empty");
    } else if (n > max) {
      p.add(field + ": must be at most " + max + " characters");
    } else {
      return true;
    }
    return false;
  }

  private static int characters(String v) {
    return v.codePointCount(0, v.length());
  }

  private static void match(List<String> p, String field, String v, String regex, String rule) {
    if (v == null || !v.matches(regex)) {
      p.add(field + ": " + rule);
    }
  }
}
