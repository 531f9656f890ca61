package io.vaultmfa.operator.totp;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.Locale;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.commons.codec.binary.Base32;

/**
 * RFC 6238 time-based one-time passwords with HMAC-SHA1, as Vault's TOTP engine and AWS virtual MFA
 * devices compute them.
 *
 * <p>The seed is the Base32 text itself (as IAM returns it and as Vault stores it under {@code
 * key}), never the bytes of that text. Codes are strings so that leading zeros are kept.
 */
public final class Totp {

  public static final int DEFAULT_DIGITS = 6;
  public static final int DEFAULT_PERIOD_SECONDS = 30;

  private static final String HMAC_SHA1 = "HmacSHA1";
  private static final Base32 BASE32 = new Base32();

  private Totp() {}

  /** The 6-digit code of the 30-second window that contains {@code unixSeconds}. */
  public static String code(String base32Seed, long unixSeconds) {
    return code(base32Seed, unixSeconds, DEFAULT_DIGITS, DEFAULT_PERIOD_SECONDS);
  }

  /**
   * The code of the window that contains {@code unixSeconds}.
   *
   * @param base32Seed Base32 text, either case, padding optional, no whitespace
   * @param digits 6 or 8, the only lengths Vault accepts
   * @param periodSeconds window length, above zero
   */
  public static String code(String base32Seed, long unixSeconds, int digits, int periodSeconds) {
    if (digits != 6 && digits != 8) {
      throw new IllegalArgumentException("digits must be 6 or 8, was " + digits);
    }
    if (periodSeconds <= 0) {
      throw new IllegalArgumentException("period must be above zero, was " + periodSeconds);
    }
    if (unixSeconds < 0) {
      throw new IllegalArgumentException("time must not be before 1970, was " + unixSeconds);
    }
    return hotp(decode(base32Seed), unixSeconds / periodSeconds, digits);
  }

  /** RFC 4226 HOTP over raw key bytes; package-private so tests can show the wrong-key result. */
  static String hotp(byte[] key, long counter, int digits) {
    byte[] hash = hmacSha1(key, ByteBuffer.allocate(Long.BYTES).putLong(counter).array());
    int offset = hash[hash.length - 1] & 0x0f;
    int binary =
        (hash[offset] & 0x7f) << 24
            | (hash[offset + 1] & 0xff) << 16
            | (hash[offset + 2] & 0xff) << 8
            | (hash[offset + 3] & 0xff);
    int modulus = digits == 8 ? 100_000_000 : 1_000_000;
    return String.format(Locale.ROOT, "%0" + digits + "d", binary % modulus);
  }

  private static byte[] decode(String base32Seed) {
    if (!Seeds.isBase32(base32Seed)) {
      throw new IllegalArgumentException("seed is not Base32 text (A-Z, 2-7, optional padding)");
    }
    byte[] key = BASE32.decode(base32Seed);
    if (key.length == 0) {
      throw new IllegalArgumentException("seed decodes to an empty key");
    }
    return key;
  }

  private static byte[] hmacSha1(byte[] key, byte[] message) {
    try {
      Mac mac = Mac.getInstance(HMAC_SHA1);
      mac.init(new SecretKeySpec(key, HMAC_SHA1));
      return mac.doFinal(message);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA1 is not available in this JVM", e);
    }
  }
}
