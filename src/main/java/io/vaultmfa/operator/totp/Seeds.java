package io.vaultmfa.operator.totp;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The form in which a TOTP seed is handed to Vault: the Base32 text IAM returned, upper-cased, with
 * no whitespace. Vault pads and upper-cases by itself but refuses any whitespace (HTTP 400).
 *
 * <p>No method here puts a seed into an exception message.
 */
public final class Seeds {

  private static final Pattern WHITESPACE = Pattern.compile("[\\s\\p{Z}]+");
  private static final Pattern BASE32 = Pattern.compile("[A-Za-z2-7]+=*");

  private Seeds() {}

  /** Upper-cases the seed and removes all whitespace, including line breaks. */
  public static String normalize(String seed) {
    if (seed == null) {
      throw new IllegalArgumentException("seed must not be null");
    }
    return WHITESPACE.matcher(seed).replaceAll("").toUpperCase(Locale.ROOT);
  }

  /**
   * Whether the text is Base32 (either case, optional trailing padding) and nothing else, with a
   * length that decodes to whole bytes (1, 3 or 6 characters in a last group cannot).
   */
  public static boolean isBase32(String seed) {
    if (seed == null || !BASE32.matcher(seed).matches()) {
      return false;
    }
    int lastGroup = seed.replace("=", "").length() % 8;
    return lastGroup != 1 && lastGroup != 3 && lastGroup != 6;
  }
}
