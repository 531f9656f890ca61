package io.vaultmfa.operator.totp;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import org.apache.commons.codec.binary.Base32;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.core.SdkBytes;

class TotpTest {

  /** RFC 6238 Appendix B: the ASCII text 12345678901234567890 in Base32. */
  static final String RFC_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

  /** Case K03 and K04. */
  static final String K03_SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

  /** Case K02: 37 characters, no padding. */
  static final String K02_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZAU";

  @ParameterizedTest(name = "RFC 6238 SHA1 at {0} -> {1}")
  @CsvSource({
    "59, 94287082",
    "1111111109, 07081804",
    "1111111111, 14050471",
    "1234567890, 89005924",
    "2000000000, 69279037",
    "20000000000, 65353130"
  })
  void rfc6238EightDigitVectors(long unixSeconds, String expected) {
    assertThat(Totp.code(RFC_SEED, unixSeconds, 8, 30)).isEqualTo(expected);
  }

  @Nested
  class K01SixDigits {

    @ParameterizedTest(name = "at {0} -> {1}")
    @CsvSource({
      "59, 287082",
      "1111111109, 081804",
      "1111111111, 050471",
      "1234567890, 005924",
      "2000000000, 279037",
      "20000000000, 353130"
    })
    void vectors(long unixSeconds, String expected) {
      assertThat(Totp.code(RFC_SEED, unixSeconds)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "at {0} -> {1}")
    @CsvSource({
      "1111111109, 081804",
      "1111111110, 050471",
      "1111111139, 050471",
      "1111111140, 266759"
    })
    void windowEdges(long unixSeconds, String expected) {
      assertThat(Totp.code(RFC_SEED, unixSeconds)).isEqualTo(expected);
    }

    @Test
    void leadingZerosAreKept() {
      assertThat(Totp.code(RFC_SEED, 1234567890L)).isEqualTo("005924").hasSize(6);
    }
  }

  @Nested
  class K02Normalisation {

    @ParameterizedTest
    @ValueSource(strings = {K02_SEED, "gezdgnbvgy3tqojqgezdgnbvgy3tqojqgezau", K02_SEED + "==="})
    void equivalentSeedsGiveTheSameCodes(String seed) {
      assertThat(Totp.code(seed, 1700000000L)).isEqualTo("142754");
      assertThat(Totp.code(seed, 1700000030L)).isEqualTo("296712");
    }

    @Test
    void normalizeUpperCasesAndRemovesAllWhitespace() {
      assertThat(Seeds.normalize("jbsw Y3DP\tEHPK\u00a03PXP\r\n")).isEqualTo("JBSWY3DPEHPK3PXP");
      assertThat(Seeds.normalize(K02_SEED.toLowerCase() + "\n")).isEqualTo(K02_SEED);
      assertThat(Seeds.normalize(K02_SEED + "===")).isEqualTo(K02_SEED + "===");
    }

    @Test
    void normalizedSeedsGiveTheSameCodes() {
      String spaced = "gezd gnbv gy3t qojq gezd gnbv gy3t qojq gezau\n";
      assertThat(Totp.code(Seeds.normalize(spaced), 1700000000L)).isEqualTo("142754");
    }

    @ParameterizedTest
    @ValueSource(strings = {"JBSW Y3DP EHPK 3PXP", "JBSWY3DPEHPK3PXP\n", "JBSWY3DP1", "", "A"})
    void seedsVaultWouldRefuseAreRefused(String seed) {
      assertThatIllegalArgumentException().isThrownBy(() -> Totp.code(seed, 1700000000L));
    }

    @Test
    void refusalDoesNotRepeatTheSeed() {
      assertThatIllegalArgumentException()
          .isThrownBy(() -> Totp.code("JBSW Y3DP EHPK 3PXP", 1700000000L))
          .withMessageNotContaining("JBSW")
          .withMessageNotContaining("3PXP");
    }
  }

  @Nested
  class K03EnablePair {

    @Test
    void previousAndCurrentWindow() {
      long now = 1700000015L;
      assertThat(Totp.code(K03_SEED, now - 30)).isEqualTo("023539");
      assertThat(Totp.code(K03_SEED, now)).isEqualTo("674043");
    }

    @Test
    void rfcSeedPair() {
      long now = 1111111111L;
      assertThat(Totp.code(RFC_SEED, now - 30)).isEqualTo("081804");
      assertThat(Totp.code(RFC_SEED, now)).isEqualTo("050471");
    }
  }

  @Nested
  class K04SeedFromTheSdk {

    private final SdkBytes fromIam = SdkBytes.fromByteArray(K03_SEED.getBytes(US_ASCII));

    @Test
    void seedTextGivesTheDeviceCode() {
      assertThat(Totp.code(fromIam.asUtf8String(), 1700000000L)).isEqualTo("023539");
    }

    @Test
    void ourPathNeverGivesTheWrongKeyCode() {
      String ours = Totp.code(fromIam.asUtf8String(), 1700000000L);
      String reEncoded = new Base32().encodeAsString(fromIam.asByteArray());
      String asciiKey = Totp.hotp(fromIam.asByteArray(), 1700000000L / 30, 6);

      assertThat(ours).isNotEqualTo("422599");
      // The two mistakes the case names both give 422599, so the value above is meaningful.
      assertThat(Totp.code(reEncoded, 1700000000L)).isEqualTo("422599");
      assertThat(asciiKey).isEqualTo("422599");
    }
  }

  @Nested
  class Parameters {

    @ParameterizedTest
    @ValueSource(ints = {0, 5, 7, 9})
    void digitsOtherThanSixOrEightAreRefused(int digits) {
      assertThatIllegalArgumentException().isThrownBy(() -> Totp.code(RFC_SEED, 59, digits, 30));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -30})
    void periodMustBeAboveZero(int period) {
      assertThatIllegalArgumentException().isThrownBy(() -> Totp.code(RFC_SEED, 59, 6, period));
    }

    @Test
    void otherPeriodsUseTheirOwnWindows() {
      assertThat(Totp.code(RFC_SEED, 118, 6, 60)).isEqualTo(Totp.code(RFC_SEED, 59, 6, 30));
    }
  }
}
