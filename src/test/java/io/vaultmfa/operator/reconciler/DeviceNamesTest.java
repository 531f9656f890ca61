package io.vaultmfa.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The device names rotation uses, and the rotation interval as the spec writes it. */
class DeviceNamesTest {

  static final String ACCOUNT = "arn:aws:iam::123456789012:mfa";

  @Test
  void generationZeroIsTheSpecsNameAndLaterOnesCarryASuffix() {
    assertThat(DeviceNames.name("TOTP", 0)).isEqualTo("TOTP");
    assertThat(DeviceNames.name("TOTP", 1)).isEqualTo("TOTP-r1");
    assertThat(DeviceNames.name("TOTP", 12)).isEqualTo("TOTP-r12");
  }

  @Test
  void aLongNameIsShortenedSoTheSuffixFitsIamsLimit() {
    String base = "d".repeat(226);
    String rotated = DeviceNames.name(base, 7);
    assertThat(rotated).hasSize(226).endsWith("d-r7");
    assertThat(DeviceNames.generation(ACCOUNT + "/" + rotated, "/", base))
        .isEqualTo(OptionalInt.of(7));
  }

  @Test
  void generationIsReadBackFromTheSerialNumber() {
    assertThat(DeviceNames.generation(ACCOUNT + "/TOTP", "/", "TOTP")).isEqualTo(OptionalInt.of(0));
    assertThat(DeviceNames.generation(ACCOUNT + "/TOTP-r3", "/", "TOTP"))
        .isEqualTo(OptionalInt.of(3));
    assertThat(DeviceNames.generation(ACCOUNT + "/k8s/TOTP-r3", "/k8s/", "TOTP"))
        .isEqualTo(OptionalInt.of(3));
  }

  @Test
  void otherNamesAndPathsAreNotThisBindings() {
    assertThat(DeviceNames.generation(ACCOUNT + "/TOTP2", "/", "TOTP")).isEmpty();
    assertThat(DeviceNames.generation(ACCOUNT + "/TOTP-r0", "/", "TOTP")).isEmpty();
    assertThat(DeviceNames.generation(ACCOUNT + "/TOTP-rx", "/", "TOTP")).isEmpty();
    assertThat(DeviceNames.generation(ACCOUNT + "/XTOTP-r1", "/", "TOTP")).isEmpty();
    assertThat(DeviceNames.generation(ACCOUNT + "/k8s/TOTP", "/", "TOTP")).isEmpty();
    assertThat(DeviceNames.generation(ACCOUNT + "/TOTP", "/k8s/", "TOTP")).isEmpty();
    assertThat(DeviceNames.generation("arn:aws:iam::123456789012:u2f/TOTP", "/", "TOTP")).isEmpty();
    assertThat(DeviceNames.generation(null, "/", "TOTP")).isEmpty();
  }

  @Test
  void aSpecNameThatLooksRotatedIsGenerationZero() {
    assertThat(DeviceNames.generation(ACCOUNT + "/ci-r1", "/", "ci-r1"))
        .isEqualTo(OptionalInt.of(0));
    assertThat(DeviceNames.generation(ACCOUNT + "/ci-r1-r1", "/", "ci-r1"))
        .isEqualTo(OptionalInt.of(1));
  }

  @Test
  void rotationIntervalIsAGoDurationOfAtLeastThirtySeconds() {
    assertThat(Desired.interval("2160h")).contains(Duration.ofHours(2160));
    assertThat(Desired.interval("1h30m")).contains(Duration.ofMinutes(90));
    assertThat(Desired.interval("45s")).contains(Duration.ofSeconds(45));
    assertThat(Desired.interval("5s")).contains(Duration.ofSeconds(30));
    assertThat(Desired.interval("0s")).contains(Duration.ofSeconds(30));
    assertThat(Desired.interval("")).isEqualTo(Optional.empty());
    assertThat(Desired.interval(null)).isEqualTo(Optional.empty());
    assertThat(Desired.interval("3 months")).isEqualTo(Optional.empty());
    assertThat(Desired.interval("99999999999999999999h")).isEqualTo(Optional.empty());
  }
}
