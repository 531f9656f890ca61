package io.vaultmfa.operator.api;

/**
 * The naming rules of the outside systems, written once. The CRD schema uses them as patterns, and
 * {@link SpecValidator} checks the same patterns for API servers that do not enforce the schema.
 */
public final class Rules {

  /** IAM user and virtual MFA device names: letters, digits and {@code _+=,.@-}. */
  public static final String IAM_NAME = "^[A-Za-z0-9_+=,.@-]+$";

  public static final int IAM_USER_NAME_MAX = 64;

  /** AWS allows 226 characters for a virtual MFA device name. */
  public static final int MFA_DEVICE_NAME_MAX = 226;

  /** IAM paths: "/" or "/" + printable ASCII + "/". */
  public static final String IAM_PATH = "^/([!-~]+/)?$";

  public static final int IAM_PATH_MAX = 512;

  /** Vault's TOTP key name rule, {@code \w(([\w-.@]+)?\w)?}, with ASCII word characters. */
  public static final String VAULT_KEY_NAME = "^[A-Za-z0-9_]([A-Za-z0-9_.@-]*[A-Za-z0-9_])?$";

  public static final int VAULT_KEY_NAME_MAX = 128;

  /** A Vault mount path: segments of word characters and dashes, no leading or trailing slash. */
  public static final String VAULT_MOUNT = "^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$";

  public static final String POLICY_ARN = "^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/[!-~]+$";

  public static final String ROLE_ARN = "^arn:aws[a-z-]*:iam::[0-9]{12}:role/[!-~]+$";

  /** A Kubernetes object name (DNS subdomain). */
  public static final String K8S_NAME =
      "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

  /** A Go duration such as {@code 2160h} or {@code 90m}. */
  public static final String DURATION = "^([0-9]+(ns|us|ms|s|m|h))+$";

  private Rules() {}
}
