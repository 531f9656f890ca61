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

  /**
   * Mount paths Vault reserves for itself ({@code sys/}, {@code auth/}, {@code identity/}, {@code
   * cubbyhole/}): no TOTP engine can be mounted there.
   */
  public static final String VAULT_RESERVED_MOUNT = "^(sys|auth|identity|cubbyhole)(/.*)?$";

  public static final int VAULT_MOUNT_MAX = 128;

  public static final int VAULT_ISSUER_MAX = 256;

  /** An IAM policy ARN in any partition ({@code aws}, {@code aws-cn}, {@code aws-us-gov}, ...). */
  public static final String POLICY_ARN = "^arn:aws(-[a-z]+)*:iam::(aws|[0-9]{12}):policy/[!-~]+$";

  public static final String ROLE_ARN = "^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[!-~]+$";

  public static final int ARN_MAX = 2048;

  public static final int POLICY_ARNS_MAX = 20;

  /** IAM tag keys: 1-128 Unicode letters, digits, spaces and {@code _.:/=+-@}. */
  public static final String IAM_TAG_KEY = "^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]+$";

  /** IAM tag values: up to 256 Unicode letters, digits, spaces and {@code _.:/=+-@}. */
  public static final String IAM_TAG_VALUE = "^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]*$";

  public static final int IAM_TAG_KEY_MAX = 128;

  public static final int IAM_TAG_VALUE_MAX = 256;

  /**
   * Tags the operator may add to a user it creates: IAM allows 50, the operator adds 3 of its own.
   */
  public static final int IAM_TAGS_MAX = 40;

  public static final int K8S_NAME_MAX = 253;

  public static final int ROTATION_TOKEN_MAX = 253;

  /** A Kubernetes object name (DNS subdomain). */
  public static final String K8S_NAME =
      "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

  /** A Go duration such as {@code 2160h} or {@code 90m}. */
  public static final String DURATION = "^([0-9]+(ns|us|ms|s|m|h))+$";

  private Rules() {}
}
