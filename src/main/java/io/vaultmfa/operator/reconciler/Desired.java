package io.vaultmfa.operator.reconciler;

import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.AwsMfaBindingSpec;
import io.vaultmfa.operator.api.DeletionPolicy;
import io.vaultmfa.operator.api.IamUserSpec;
import io.vaultmfa.operator.iam.Ownership;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
    Ownership ownership,
    String rotationToken,
    Optional<Duration> rotationInterval) {

  /** Rotating more often than once per TOTP period cannot help anyone; shorter counts as this. */
  static final Duration MIN_ROTATION_INTERVAL = Duration.ofSeconds(30);

  private static final Pattern GO_DURATION_PART = Pattern.compile("([0-9]+)(ns|us|ms|s|m|h)");

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
        new Ownership(clusterId, b.getMetadata().getUid(), ns + "/" + name),
        s.getRotation() == null || s.getRotation().getToken() == null
            ? ""
            : s.getRotation().getToken(),
        s.getRotation() == null ? Optional.empty() : interval(s.getRotation().getInterval()));
  }

  /**
   * A Go duration such as {@code 2160h} or {@code 1h30m} (the spec's pattern), at least {@link
   * #MIN_ROTATION_INTERVAL}; empty when not set, or too large to ever come due.
   */
  static Optional<Duration> interval(String text) {
    if (text == null || text.isEmpty()) {
      return Optional.empty();
    }
    Matcher m = GO_DURATION_PART.matcher(text);
    Duration d = Duration.ZERO;
    int end = 0;
    try {
      while (m.find() && m.start() == end) {
        long n = Long.parseLong(m.group(1));
        d =
            d.plus(
                switch (m.group(2)) {
                  case "ns" -> Duration.ofNanos(n);
                  case "us" -> Duration.ofNanos(Math.multiplyExact(n, 1000L));
                  case "ms" -> Duration.ofMillis(n);
                  case "s" -> Duration.ofSeconds(n);
                  case "m" -> Duration.ofMinutes(n);
                  default -> Duration.ofHours(n);
                });
        end = m.end();
      }
    } catch (ArithmeticException | NumberFormatException e) {
      return Optional.empty();
    }
    if (end == 0 || end != text.length()) {
      return Optional.empty(); // SpecValidator refuses it before this is used
    }
    return Optional.of(d.compareTo(MIN_ROTATION_INTERVAL) < 0 ? MIN_ROTATION_INTERVAL : d);
  }

  private static AwsMfaBindingSpec copyWithUser(AwsMfaBindingSpec s) {
    AwsMfaBindingSpec c = new AwsMfaBindingSpec();
    c.setIamUser(new IamUserSpec());
    c.setMfaDevice(s.getMfaDevice());
    c.setVault(s.getVault());
    c.setSecretName(s.getSecretName());
    c.setDeletionPolicy(s.getDeletionPolicy());
    c.setRotation(s.getRotation());
    return c;
  }

  String codePath() {
    return mount + "/code/" + keyName;
  }

  /**
   * The Vault key that holds a rotation's new seed while both devices are enabled, so that a
   * restart can tell which seed the key at {@link #keyName} holds (see DeviceStep).
   */
  String stagingKeyName() {
    return keyName + ".rotating";
  }

  private static String orDefault(String v, String d) {
    return v == null || v.isEmpty() ? d : v;
  }
}
