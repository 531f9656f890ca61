package io.vaultmfa.operator.totp;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SeedTest {

  /** Case K03 and K04. */
  static final String K03 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

  /** Case K02: 37 characters, unpadded. */
  static final String K02 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZAU";

  @Test
  void toStringDoesNotShowTheSeed() {
    Seed s = Seed.fromIamText(K03);
    assertThat(s.toString()).doesNotContain(K03).doesNotContain("JBSWY3DP");
  }

  @Test
  void formattingDoesNotShowTheSeed() {
    Seed s = Seed.fromIamText(K03);
    assertThat(String.format("seed=%s", s)).doesNotContain("JBSWY3DP");
    assertThat("seed=" + s).doesNotContain("JBSWY3DP");
  }

  @Test
  void revealGivesTheNormalisedText() {
    assertThat(Seed.fromIamText(K03).reveal()).isEqualTo(K03);
  }

  /** K02: Vault accepts lower case but refuses whitespace and a trailing newline. */
  @ParameterizedTest(name = "[{0}]")
  @ValueSource(
      strings = {
        "jbswy3dpehpk3pxp",
        "JBSW Y3DP EHPK 3PXP",
        "JBSWY3DPEHPK3PXP\n",
        "JBSWY3DPEHPK3PXP\r\n",
        "\tjbsw y3dp\nehpk 3pxp ",
        "JBSWY3DP\u00a0EHPK3PXP"
      })
  void fromIamTextUpperCasesAndStripsWhitespace(String text) {
    assertThat(Seed.fromIamText(text).reveal()).isEqualTo("JBSWY3DPEHPK3PXP");
  }

  @Test
  void fromIamTextKeepsPadding() {
    assertThat(Seed.fromIamText(K02.toLowerCase(Locale.ROOT) + "===").reveal())
        .isEqualTo(K02 + "===");
  }

  @ParameterizedTest(name = "[{0}]")
  @ValueSource(
      strings = {
        K02,
        "gezdgnbvgy3tqojqgezdgnbvgy3tqojqgezau",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZAU===",
        "gezdgnbvgy3tqojqgezdgnbvgy3tqojqgezau===",
        "GezdgnbvGY3TQOJQgezdgnbvGY3TQOJQgezau="
      })
  void scrubRemovesTheSeedInAnyCaseWithOrWithoutPadding(String copy) {
    Seed s = Seed.fromIamText(K02);
    String out = s.scrub("Vault said: key " + copy + " is invalid");
    assertThat(out.toUpperCase(Locale.ROOT)).doesNotContain("GEZDGNBVGY3TQOJQGEZAU");
    assertThat(out).startsWith("Vault said: key ").endsWith(" is invalid").doesNotContain("=");
  }

  @Test
  void scrubWorksForASeedGivenWithPadding() {
    Seed s = Seed.fromIamText(K02 + "===");
    assertThat(s.scrub("bad key " + K02.toLowerCase(Locale.ROOT) + "."))
        .isEqualTo("bad key [redacted].");
  }

  @Test
  void scrubRemovesEveryCopy() {
    Seed s = Seed.fromIamText(K03);
    assertThat(s.scrub(K03 + " and " + K03.toLowerCase(Locale.ROOT)))
        .isEqualTo("[redacted] and [redacted]");
  }

  @Test
  void scrubLeavesOtherTextAlone() {
    Seed s = Seed.fromIamText(K03);
    String text = "permission denied on totp/keys/team-a.ci ($1 \\ [x])";
    assertThat(s.scrub(text)).isEqualTo(text);
  }

  @Test
  void scrubOfNullIsNull() {
    assertThat(Seed.fromIamText(K03).scrub(null)).isNull();
  }

  /** K03 / K04: the seed text is the key, so K03 at 1700000000 is 023539, never 422599. */
  @ParameterizedTest(name = "at {0}")
  @CsvSource({"1700000000, 023539", "1700000015, 674043", "1699999985, 023539"})
  void codeAtMatchesTheCaseVectors(long t, String code) {
    assertThat(Seed.fromIamText(K03).codeAt(t)).isEqualTo(code);
  }

  @ParameterizedTest(name = "at {0}")
  @ValueSource(longs = {0, 59, 1111111109, 1111111111, 1700000000, 1700000030, 2000000000})
  void codeAtEqualsTotpCode(long t) {
    assertThat(Seed.fromIamText(K02).codeAt(t)).isEqualTo(Totp.code(K02, t));
  }

  @Test
  void codeAtOfAWhitespacedLowerCaseSeedEqualsThatOfTheCleanSeed() {
    assertThat(
            Seed.fromIamText("gezd gnbv gy3t qojq gezd gnbv gy3t qojq gezau\n").codeAt(1700000000))
        .isEqualTo(Totp.code(K02, 1700000000))
        .isEqualTo("142754");
  }
}
