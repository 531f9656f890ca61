package io.vaultmfa.operator.totp;

/**
 * A device seed, held only for one enrolment. It is normalised once (upper case, no whitespace),
 * exactly as the Vault key is written. {@link #toString()} never shows it, so a seed passed to a
 * logger or a formatted message by mistake stays hidden.
 */
public final class Seed {

  private final String base32;

  private Seed(String base32) {
    this.base32 = base32;
  }

  /** The seed as IAM returned it as text: upper-cased, whitespace removed. */
  public static Seed fromIamText(String text) {
    return new Seed(Seeds.normalize(text));
  }

  /** The Base32 text. Call it only where the seed must leave memory: the Vault write. */
  public String reveal() {
    return base32;
  }

  /** The code for a moment, RFC 6238 with SHA1, 6 digits and 30 seconds. */
  public String codeAt(long unixSeconds) {
    return Totp.code(base32, unixSeconds);
  }

  /** Replaces any copy of this seed in {@code text}, in any case, by a marker. */
  public String scrub(String text) {
    if (text == null || base32.isEmpty()) {
      return text;
    }
    String trimmed = base32.replace("=", "");
    return text.replaceAll("(?i)" + java.util.regex.Pattern.quote(trimmed) + "=*", "[redacted]");
  }

  @Override
  public String toString() {
    return "Seed[redacted]";
  }
}
