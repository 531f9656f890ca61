package io.vaultmfa.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.vaultmfa.operator.api.AwsMfaBindingStatus;
import io.vaultmfa.operator.api.ConditionType;
import io.vaultmfa.operator.api.Reason;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class ConditionsTest {

  static final Instant T1 = Instant.parse("2026-12-03T10:00:00Z");
  static final Instant T2 = Instant.parse("2026-12-03T10:05:00.750Z");
  static final List<ConditionType> STEPS =
      List.of(
          ConditionType.UserReady,
          ConditionType.DeviceEnrolled,
          ConditionType.VaultKeyReady,
          ConditionType.SecretReady);

  final AwsMfaBindingStatus status = new AwsMfaBindingStatus();

  Conditions at(Instant now, long generation) {
    return new Conditions(status, generation, Clock.fixed(now, ZoneOffset.UTC));
  }

  Condition get(ConditionType t) {
    return status.condition(t).orElseThrow();
  }

  void allStepsTrue(Conditions c) {
    c.ok(ConditionType.UserReady, Reason.UserCreated, "user created");
    c.ok(ConditionType.DeviceEnrolled, Reason.Enrolled, "device enabled");
    c.ok(ConditionType.VaultKeyReady, Reason.KeyPresent, "key present");
    c.ok(ConditionType.SecretReady, Reason.SecretWritten, "secret written");
  }

  @Test
  void aNewConditionGetsTheClockTimeInWholeSeconds() {
    at(T2, 1).ok(ConditionType.UserReady, Reason.UserCreated, "created");
    assertThat(get(ConditionType.UserReady).getLastTransitionTime())
        .isEqualTo("2026-12-03T10:05:00Z");
  }

  @Test
  void transitionTimeIsKeptWhenOnlyReasonAndMessageChange() {
    at(T1, 1).failed(ConditionType.UserReady, Reason.Throttled, "slow down");
    at(T2, 1).failed(ConditionType.UserReady, Reason.AccessDenied, "not allowed");
    Condition c = get(ConditionType.UserReady);
    assertThat(c.getReason()).isEqualTo("AccessDenied");
    assertThat(c.getMessage()).isEqualTo("not allowed");
    assertThat(c.getLastTransitionTime()).isEqualTo(T1.toString());
  }

  @Test
  void transitionTimeMovesWhenStatusFlips() {
    at(T1, 1).failed(ConditionType.UserReady, Reason.Throttled, "slow down");
    at(T2, 1).ok(ConditionType.UserReady, Reason.UserCreated, "created");
    assertThat(get(ConditionType.UserReady).getLastTransitionTime())
        .isEqualTo("2026-12-03T10:05:00Z");
  }

  @Test
  void transitionTimeMovesFromUnknownToFalse() {
    at(T1, 1).unknown(ConditionType.DeviceEnrolled, Reason.WaitingForUser, "waiting");
    at(T2, 1).failed(ConditionType.DeviceEnrolled, Reason.AwsError, "failed");
    assertThat(get(ConditionType.DeviceEnrolled).getLastTransitionTime())
        .isEqualTo("2026-12-03T10:05:00Z");
  }

  @Test
  void observedGenerationIsSetOnEachCondition() {
    Conditions c = at(T1, 7);
    allStepsTrue(c);
    c.summarise();
    assertThat(status.getConditions())
        .hasSize(5)
        .allSatisfy(x -> assertThat(x.getObservedGeneration()).isEqualTo(7L));
  }

  @Test
  void observedGenerationFollowsTheLatestWrite() {
    at(T1, 1).ok(ConditionType.UserReady, Reason.UserCreated, "created");
    at(T2, 2).ok(ConditionType.UserReady, Reason.UserCreated, "created");
    assertThat(get(ConditionType.UserReady).getObservedGeneration()).isEqualTo(2L);
  }

  @Test
  void readyIsTrueWhenAllFourStepsAreTrue() {
    Conditions c = at(T1, 1);
    allStepsTrue(c);
    c.summarise();
    assertThat(get(ConditionType.Ready).getStatus()).isEqualTo("True");
    assertThat(get(ConditionType.Ready).getReason()).isEqualTo("Ready");
  }

  @ParameterizedTest(name = "{0} not True")
  @EnumSource(value = ConditionType.class, names = "Ready", mode = EnumSource.Mode.EXCLUDE)
  void readyIsNotTrueWhenOneStepIsFalse(ConditionType broken) {
    Conditions c = at(T1, 1);
    allStepsTrue(c);
    c.failed(broken, Reason.AwsError, broken + " failed");
    c.summarise();
    assertThat(get(ConditionType.Ready).getStatus()).isNotEqualTo("True");
  }

  @ParameterizedTest(name = "{0} unknown")
  @EnumSource(value = ConditionType.class, names = "Ready", mode = EnumSource.Mode.EXCLUDE)
  void readyIsNotTrueWhenOneStepIsUnknown(ConditionType pending) {
    Conditions c = at(T1, 1);
    allStepsTrue(c);
    c.unknown(pending, Reason.Reconciling, "checking");
    c.summarise();
    assertThat(get(ConditionType.Ready).getStatus()).isNotEqualTo("True");
  }

  @ParameterizedTest(name = "{0} missing")
  @EnumSource(value = ConditionType.class, names = "Ready", mode = EnumSource.Mode.EXCLUDE)
  void readyIsNotTrueWhenOneStepIsMissing(ConditionType missing) {
    Conditions c = at(T1, 1);
    for (ConditionType t : EnumSet.complementOf(EnumSet.of(ConditionType.Ready, missing))) {
      c.ok(t, Reason.Ready, "ok");
    }
    c.summarise();
    assertThat(get(ConditionType.Ready).getStatus()).isEqualTo("False");
    assertThat(get(ConditionType.Ready).getReason()).isEqualTo("Reconciling");
  }

  @Test
  void readyCarriesTheFirstFailingStepsReasonAndMessage() {
    Conditions c = at(T1, 1);
    c.ok(ConditionType.UserReady, Reason.UserAdopted, "adopted");
    c.failed(ConditionType.DeviceEnrolled, Reason.LimitExceeded, "device quota is full");
    c.failed(ConditionType.VaultKeyReady, Reason.VaultDenied, "permission denied");
    c.unknown(ConditionType.SecretReady, Reason.WaitingForDevice, "waiting for the device");
    c.summarise();
    Condition ready = get(ConditionType.Ready);
    assertThat(ready.getStatus()).isEqualTo("False");
    assertThat(ready.getReason()).isEqualTo("LimitExceeded");
    assertThat(ready.getMessage()).isEqualTo("device quota is full");
  }

  @Test
  void readyFollowsStepOrderNotWriteOrder() {
    Conditions c = at(T1, 1);
    c.failed(ConditionType.SecretReady, Reason.KubernetesError, "secret failed");
    c.failed(ConditionType.VaultKeyReady, Reason.VaultUnavailable, "vault sealed");
    c.ok(ConditionType.DeviceEnrolled, Reason.Enrolled, "enabled");
    c.ok(ConditionType.UserReady, Reason.UserCreated, "created");
    c.summarise();
    assertThat(get(ConditionType.Ready).getReason()).isEqualTo("VaultUnavailable");
    assertThat(get(ConditionType.Ready).getMessage()).isEqualTo("vault sealed");
  }

  @Test
  void readyKeepsItsTransitionTimeWhileTheFailingReasonChanges() {
    Conditions c1 = at(T1, 1);
    c1.failed(ConditionType.UserReady, Reason.Throttled, "slow down");
    c1.summarise();
    Conditions c2 = at(T2, 1);
    c2.failed(ConditionType.UserReady, Reason.AccessDenied, "denied");
    c2.summarise();
    assertThat(get(ConditionType.Ready).getLastTransitionTime()).isEqualTo(T1.toString());
  }

  @ParameterizedTest(name = "written as {0}")
  @MethodSource("writeOrders")
  void conditionsAreOrderedReadyThenTheStepsInLifecycleOrder(List<ConditionType> writeOrder) {
    Conditions c = at(T1, 1);
    for (ConditionType t : writeOrder) {
      c.ok(t, Reason.Ready, "ok");
    }
    c.summarise();
    assertThat(status.getConditions())
        .extracting(Condition::getType)
        .containsExactly("Ready", "UserReady", "DeviceEnrolled", "VaultKeyReady", "SecretReady");
  }

  static Stream<List<ConditionType>> writeOrders() {
    return Stream.of(
        STEPS,
        List.of(
            ConditionType.SecretReady,
            ConditionType.VaultKeyReady,
            ConditionType.DeviceEnrolled,
            ConditionType.UserReady),
        List.of(
            ConditionType.VaultKeyReady,
            ConditionType.UserReady,
            ConditionType.SecretReady,
            ConditionType.DeviceEnrolled));
  }

  @Test
  void oneConditionPerType() {
    Conditions c = at(T1, 1);
    c.failed(ConditionType.UserReady, Reason.Throttled, "slow down");
    c.failed(ConditionType.UserReady, Reason.AwsError, "failed");
    c.ok(ConditionType.UserReady, Reason.UserCreated, "created");
    assertThat(status.getConditions()).extracting(Condition::getType).containsExactly("UserReady");
  }

  @Test
  void pendingLeavesATrueStepAlone() {
    at(T1, 1).ok(ConditionType.UserReady, Reason.UserCreated, "created");
    at(T2, 2).pending(ConditionType.UserReady, Reason.Reconciling, "checking");
    assertThat(get(ConditionType.UserReady).getStatus()).isEqualTo("True");
    assertThat(get(ConditionType.UserReady).getReason()).isEqualTo("UserCreated");
  }

  @Test
  void pendingMarksAMissingStepUnknown() {
    at(T1, 1).pending(ConditionType.SecretReady, Reason.WaitingForDevice, "waiting");
    assertThat(get(ConditionType.SecretReady).getStatus()).isEqualTo("Unknown");
    assertThat(get(ConditionType.SecretReady).getReason()).isEqualTo("WaitingForDevice");
  }
}
