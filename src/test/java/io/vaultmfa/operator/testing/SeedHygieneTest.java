package io.vaultmfa.operator.testing;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.commons.codec.binary.Base32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The shared seed check finds a seed in each form it could leak in, and nothing else. */
class SeedHygieneTest {

  /** A seed as IAM issues one: Base32 of 40 random bytes, 64 characters. */
  static final byte[] KEY = new byte[40];

  static {
    new SecureRandom().nextBytes(KEY);
  }

  static final String SEED = new Base32().encodeAsString(KEY);

  static Stream<Arguments> leaks() {
    Function<byte[], String> b64 = b -> Base64.getEncoder().encodeToString(b);
    byte[] text = SEED.getBytes(StandardCharsets.US_ASCII);
    return Stream.of(
        Arguments.of("as issued", "seed=" + SEED),
        Arguments.of("lower case", "seed=" + SEED.toLowerCase(Locale.ROOT)),
        Arguments.of("padded", "key: " + SEED + "======"),
        Arguments.of("padding stripped", SEED.replace("=", "") + " done"),
        Arguments.of("in groups of four", SEED.replaceAll("(.{4})", "$1 ")),
        Arguments.of("across lines", SEED.substring(0, 20) + "\n  " + SEED.substring(20)),
        Arguments.of("in an otpauth URI", "otpauth://totp/x?secret=" + SEED + "&issuer=AWS"),
        Arguments.of("Base64 of the text", "{\"data\":{\"k\":\"" + b64.apply(text) + "\"}}"),
        Arguments.of("Base64 of the text after 1 byte", b64.apply(concat("a", text))),
        Arguments.of("Base64 of the text after 2 bytes", b64.apply(concat("ab", text))),
        Arguments.of("Base64 of the text after 4 bytes", b64.apply(concat("abcd", text))),
        Arguments.of("hex of the key bytes", "key=" + HexFormat.of().formatHex(KEY)),
        Arguments.of("HEX of the key bytes", HexFormat.of().withUpperCase().formatHex(KEY)),
        Arguments.of("Base64 of the key bytes", "k=" + b64.apply(KEY)),
        Arguments.of(
            "URL-safe Base64 of the key bytes",
            Base64.getUrlEncoder().withoutPadding().encodeToString(KEY)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("leaks")
  void findsTheSeed(String form, String text) {
    assertThatThrownBy(() -> SeedHygiene.assertNoSeed("the text", text, List.of(SEED)))
        .isInstanceOf(AssertionError.class)
        .hasMessage("a device seed appears in the text");
  }

  @Test
  void findsTheSeedInASecretsDecodedData() {
    Secret s =
        new SecretBuilder()
            .withNewMetadata()
            .withName("aws-mfa")
            .withNamespace("team-a")
            .endMetadata()
            .addToData(
                "URI",
                Base64.getEncoder()
                    .encodeToString(
                        ("otpauth://totp/svc?secret=" + SEED).getBytes(StandardCharsets.UTF_8)))
            .build();
    assertThatThrownBy(() -> SeedHygiene.assertNoSeedInSecret(s, List.of(SEED)))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("Secret team-a/aws-mfa");
  }

  @Test
  void passesOnTextWithoutTheSeed() {
    byte[] other = KEY.clone();
    other[0] ^= 1;
    String text =
        String.join(
            "\n",
            "seed=" + new Base32().encodeAsString(other).substring(0, 8),
            "prefix " + SEED.substring(0, 12),
            "arn:aws:iam::123456789012:mfa/TOTP",
            HexFormat.of().formatHex(other));
    assertThatCode(() -> SeedHygiene.assertNoSeed("the text", text, List.of(SEED)))
        .doesNotThrowAnyException();
  }

  private static byte[] concat(String prefix, byte[] b) {
    byte[] p = prefix.getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[p.length + b.length];
    System.arraycopy(p, 0, out, 0, p.length);
    System.arraycopy(b, 0, out, p.length, b.length);
    return out;
  }
}
