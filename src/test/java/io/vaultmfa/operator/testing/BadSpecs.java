package io.vaultmfa.operator.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.AwsMfaBindingSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * One corpus of bad specs (invariant: bad input is refused naming the field and the rule, and
 * nothing outside the cluster is touched), run at three places: the CRD schema and CEL rules of a
 * real kube-apiserver ({@code CrdValidationE2E}), {@code SpecValidator} ({@code SpecValidatorTest})
 * and the running operator on an API server that enforces nothing ({@code InvalidSpecIT}).
 *
 * <p>Each spec breaks exactly one rule; the rest of it is valid.
 */
public final class BadSpecs {

  /**
   * A bad spec.
   *
   * @param name the binding's name, a Kubernetes name unique in the corpus
   * @param spec the spec in YAML flow style, as a person would write it in a manifest
   * @param field the field the refusal names, e.g. {@code spec.iamUser.name}
   * @param apiSays what the API server's refusal says besides the field (the rule)
   * @param operatorSays what {@code SpecValidator}'s problem says after "field: " (the rule)
   * @param javaModel false when the Java model cannot even hold it (an unknown enum value): only
   *     the API server sees it
   */
  public record Bad(
      String name,
      String spec,
      String field,
      String apiSays,
      String operatorSays,
      boolean javaModel) {

    /** The binding as the Java model reads it, in namespace {@code ns}. */
    public AwsMfaBinding binding(String ns) {
      AwsMfaBinding b = new AwsMfaBinding();
      b.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName(name).build());
      try {
        b.setSpec(YAML.readValue(spec, AwsMfaBindingSpec.class));
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("spec of " + name + " is not YAML the model reads", e);
      }
      return b;
    }

    /** A manifest for {@code kubectl apply -f -}. */
    public String manifest(String ns) {
      return String.join(
          "\n",
          "apiVersion: vaultmfa.io/v1alpha1",
          "kind: AwsMfaBinding",
          "metadata: {name: " + name + ", namespace: " + ns + "}",
          "spec: " + spec,
          "");
    }

    @Override
    public String toString() {
      return name;
    }
  }

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final String USER = "iamUser: {name: ci}";
  private static final String PATTERN = "should match";
  private static final String TOO_LONG = "Too long";
  private static final String EMPTY = "should be at least 1 chars long";
  private static final String IAM_CHARS = "may contain only letters, digits and _+=,.@-";
  private static final String PATH_RULE = "must be / or start and end with /";
  private static final String KEY_RULE = "must match Vault's key name rule";
  private static final String MOUNT_RULE = "must be a mount path";
  private static final String POLICY_RULE = "must be an IAM policy ARN";
  private static final String ROLE_RULE = "must be an IAM role ARN";

  private BadSpecs() {}

  public static Stream<Bad> all() {
    List<Bad> b = new ArrayList<>();
    String a65 = "a".repeat(65);

    // IAM user name: 1-64 ASCII letters, digits and _+=,.@-
    b.add(bad("user-missing", "{vault: {keyName: ci}}", "spec.iamUser", "Required", "required"));
    b.add(bad("user-empty", "{iamUser: {name: \"\"}}", "spec.iamUser.name", EMPTY, "empty"));
    b.add(
        bad(
            "user-65",
            "{iamUser: {name: " + a65 + "}}",
            "spec.iamUser.name",
            TOO_LONG,
            "at most 64"));
    b.add(user("user-space", "ci deployer"));
    b.add(user("user-slash", "team/ci"));
    b.add(user("user-cyrillic-a", "\u0430dmin")); // Cyrillic a, looks like Latin a
    b.add(user("user-cyrillic-te", "\u0422OTP")); // Cyrillic Te, looks like Latin T
    b.add(user("user-fullwidth", "\uff34\uff2f\uff34\uff30")); // full-width TOTP
    b.add(user("user-fullwidth-digit", "ci\uff11")); // full-width 1
    b.add(user("user-zero-width", "ci\u200bdeployer")); // zero-width space
    b.add(user("user-nbsp", "ci\u00a0deployer")); // no-break space
    b.add(user("user-newline", "ci\\n"));

    // IAM paths: / or /printable-ASCII/, at most 512
    b.add(bad("user-path-empty", userWith("path: \"\""), "spec.iamUser.path", EMPTY, "empty"));
    b.add(path("user-path-bare", "iamUser", "ci"));
    b.add(path("user-path-no-trailing", "iamUser", "/ci"));
    b.add(path("user-path-no-leading", "iamUser", "ci/"));
    b.add(path("user-path-double", "iamUser", "//"));
    b.add(path("user-path-space", "iamUser", "/a b/"));
    b.add(path("user-path-accent", "iamUser", "/\u00e9/"));
    b.add(
        bad(
            "user-path-513",
            userWith("path: /" + "p".repeat(511) + "/"),
            "spec.iamUser.path",
            TOO_LONG,
            "at most 512"));

    // Device name and path
    b.add(
        bad(
            "device-empty",
            "{" + USER + ", mfaDevice: {name: \"\"}}",
            "spec.mfaDevice.name",
            EMPTY,
            "empty"));
    b.add(
        bad(
            "device-227",
            "{" + USER + ", mfaDevice: {name: " + "d".repeat(227) + "}}",
            "spec.mfaDevice.name",
            TOO_LONG,
            "at most 226"));
    b.add(
        bad(
            "device-cyrillic-e",
            "{" + USER + ", mfaDevice: {name: \"d\u0435vice\"}}",
            "spec.mfaDevice.name",
            PATTERN,
            IAM_CHARS));
    b.add(path("device-path-no-trailing", "mfaDevice", "/k8s"));
    b.add(path("device-path-no-leading", "mfaDevice", "k8s/"));

    // Managed policy ARNs
    b.add(policy("policy-name-only", "AdministratorAccess"));
    b.add(policy("policy-role-arn", "arn:aws:iam::123456789012:role/deployer"));
    b.add(policy("policy-s3-arn", "arn:aws:s3:::bucket"));
    b.add(policy("policy-no-name", "arn:aws:iam::aws:policy/"));
    b.add(policy("policy-short-account", "arn:aws:iam::12345678901:policy/p"));
    b.add(policy("policy-bad-partition", "arn:awsx:iam::aws:policy/ReadOnlyAccess"));
    b.add(policy("policy-space", "arn:aws:iam::aws:policy/Read Only"));
    b.add(
        bad(
            "policy-2049",
            userWith("managedPolicyArns: [arn:aws:iam::aws:policy/" + "p".repeat(2025) + "]"),
            "spec.iamUser.managedPolicyArns[0]",
            TOO_LONG,
            "at most 2048"));
    b.add(
        bad(
            "policy-21",
            userWith(
                "managedPolicyArns: ["
                    + IntStream.range(0, 21)
                        .mapToObj(i -> "arn:aws:iam::123456789012:policy/p" + i)
                        .collect(Collectors.joining(", "))
                    + "]"),
            "spec.iamUser.managedPolicyArns",
            "must have at most 20 items",
            "at most 20 items"));

    // Tags of a user the operator creates: IAM's rules
    b.add(tag("tag-reserved", "\"vaultmfa.io/binding\": x", "reserved for the operator"));
    b.add(tag("tag-aws-prefix", "\"aws:createdBy\": x", "reserved for AWS"));
    b.add(tag("tag-aws-prefix-upper", "\"AWS:team\": x", "reserved for AWS"));
    b.add(tag("tag-key-empty", "\"\": x", "1-128 characters"));
    b.add(tag("tag-key-129", "\"" + "k".repeat(129) + "\": x", "1-128 characters"));
    b.add(tag("tag-key-chars", "\"team<1>\": x", "may contain only letters"));
    b.add(
        bad(
            "tag-value-257",
            userWith("tags: {team: " + "v".repeat(257) + "}"),
            "spec.iamUser.tags",
            TOO_LONG,
            "at most 256"));
    b.add(
        bad(
            "tag-value-chars",
            userWith("tags: {team: \"a;b\"}"),
            "spec.iamUser.tags",
            PATTERN,
            "may contain only letters"));
    b.add(
        bad(
            "tags-41",
            userWith(
                "tags: {"
                    + IntStream.range(0, 41)
                        .mapToObj(i -> "t" + i + ": v")
                        .collect(Collectors.joining(", "))
                    + "}"),
            "spec.iamUser.tags",
            "must have at most 40 items",
            "at most 40 items"));

    // Vault key name: Vault's \w(([\w-.@]+)?\w)?, ASCII, 1-128; it must stay inside the mount
    b.add(key("key-empty", "\"\"", EMPTY, "empty"));
    b.add(key("key-dotdot-slash", "\"../x\"", PATTERN, KEY_RULE));
    b.add(key("key-dotdot", "\"..\"", PATTERN, KEY_RULE));
    b.add(key("key-slash", "\"a/b\"", PATTERN, KEY_RULE));
    b.add(key("key-encoded-dotdot", "\"%2e%2e\"", PATTERN, KEY_RULE));
    b.add(key("key-encoded-slash", "\"a%2fb\"", PATTERN, KEY_RULE));
    b.add(key("key-backslash", "\"a\\\\b\"", PATTERN, KEY_RULE));
    b.add(key("key-query", "\"a?b\"", PATTERN, KEY_RULE));
    b.add(key("key-colon", "\"team:svc\"", PATTERN, KEY_RULE));
    b.add(key("key-plus", "svc+ops", PATTERN, KEY_RULE));
    b.add(key("key-dash-end", "svc-", PATTERN, KEY_RULE));
    b.add(key("key-cyrillic-a", "\"\u0430ws\"", PATTERN, KEY_RULE));
    b.add(key("key-129", "k".repeat(129), TOO_LONG, "at most 128"));

    // Vault mount
    b.add(mount("mount-empty", "\"\"", EMPTY, "empty"));
    b.add(mount("mount-dotdot", "\"../sys\"", PATTERN, MOUNT_RULE));
    b.add(mount("mount-leading-slash", "/totp", PATTERN, MOUNT_RULE));
    b.add(mount("mount-trailing-slash", "totp/", PATTERN, MOUNT_RULE));
    b.add(mount("mount-double-slash", "\"team//totp\"", PATTERN, MOUNT_RULE));
    b.add(mount("mount-encoded", "\"%2e%2e\"", PATTERN, MOUNT_RULE));
    b.add(mount("mount-sys", "sys", "Vault's own paths", "Vault's own paths"));
    b.add(mount("mount-auth", "auth/token", "Vault's own paths", "Vault's own paths"));
    b.add(mount("mount-cubbyhole", "cubbyhole", "Vault's own paths", "Vault's own paths"));
    b.add(mount("mount-129", "m".repeat(129), TOO_LONG, "at most 128"));

    // Vault issuer
    b.add(
        bad(
            "issuer-empty",
            "{" + USER + ", vault: {issuer: \"\"}}",
            "spec.vault.issuer",
            EMPTY,
            "empty"));
    b.add(
        bad(
            "issuer-257",
            "{" + USER + ", vault: {issuer: " + "i".repeat(257) + "}}",
            "spec.vault.issuer",
            TOO_LONG,
            "at most 256"));

    // Output Secret
    String secretRule = "must be a Kubernetes object name";
    b.add(
        bad(
            "secret-empty",
            "{" + USER + ", secretName: \"\"}",
            "spec.secretName",
            PATTERN,
            "empty"));
    b.add(
        bad(
            "secret-upper",
            "{" + USER + ", secretName: Aws_MFA}",
            "spec.secretName",
            PATTERN,
            secretRule));
    b.add(
        bad(
            "secret-254",
            "{" + USER + ", secretName: " + "s".repeat(254) + "}",
            "spec.secretName",
            TOO_LONG,
            "at most 253"));

    // AWS role
    b.add(role("role-arn-user", "\"arn:aws:iam::123456789012:user/ci\"", PATTERN, ROLE_RULE));
    b.add(role("role-arn-empty", "\"\"", PATTERN, ROLE_RULE));
    b.add(
        role(
            "role-arn-2049",
            "arn:aws:iam::123456789012:role/" + "r".repeat(2019),
            TOO_LONG,
            "at most 2048"));

    // Rotation and deletion
    b.add(
        bad(
            "rotation-interval",
            "{" + USER + ", rotation: {interval: \"3 months\"}}",
            "spec.rotation.interval",
            PATTERN,
            "must be a duration"));
    b.add(
        bad(
            "rotation-token-254",
            "{" + USER + ", rotation: {token: " + "t".repeat(254) + "}}",
            "spec.rotation.token",
            TOO_LONG,
            "at most 253"));
    b.add(
        new Bad(
            "deletion-orphan",
            "{" + USER + ", deletionPolicy: Orphan}",
            "spec.deletionPolicy",
            "Unsupported value",
            null,
            false));
    return b.stream();
  }

  /** The specs {@code SpecValidator} and the operator can see. */
  public static Stream<Bad> inJavaModel() {
    return all().filter(Bad::javaModel);
  }

  private static Bad bad(String name, String spec, String field, String api, String operator) {
    return new Bad(name, spec, field, api, operator, true);
  }

  private static Bad user(String name, String userName) {
    return bad(
        name, "{iamUser: {name: \"" + userName + "\"}}", "spec.iamUser.name", PATTERN, IAM_CHARS);
  }

  private static String userWith(String more) {
    return "{iamUser: {name: ci, " + more + "}}";
  }

  private static Bad path(String name, String where, String path) {
    String spec =
        where.equals("iamUser")
            ? userWith("path: \"" + path + "\"")
            : "{" + USER + ", mfaDevice: {path: \"" + path + "\"}}";
    return bad(name, spec, "spec." + where + ".path", PATTERN, PATH_RULE);
  }

  private static Bad policy(String name, String arn) {
    return bad(
        name,
        userWith("managedPolicyArns: [\"" + arn + "\"]"),
        "spec.iamUser.managedPolicyArns[0]",
        PATTERN,
        POLICY_RULE);
  }

  private static Bad tag(String name, String entry, String rule) {
    return bad(name, userWith("tags: {" + entry + "}"), "spec.iamUser.tags", rule, rule);
  }

  private static Bad key(String name, String key, String api, String operator) {
    return bad(
        name, "{" + USER + ", vault: {keyName: " + key + "}}", "spec.vault.keyName", api, operator);
  }

  private static Bad mount(String name, String mount, String api, String operator) {
    return bad(
        name, "{" + USER + ", vault: {mount: " + mount + "}}", "spec.vault.mount", api, operator);
  }

  private static Bad role(String name, String arn, String api, String operator) {
    return bad(
        name, "{" + USER + ", aws: {roleArn: " + arn + "}}", "spec.aws.roleArn", api, operator);
  }
}
