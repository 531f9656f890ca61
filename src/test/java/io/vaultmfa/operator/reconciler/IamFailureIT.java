package io.vaultmfa.operator.reconciler;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static io.vaultmfa.operator.testing.EnrolledOnce.assertEnrolledOnce;
import static io.vaultmfa.operator.testing.EnrolledOnce.callsSince;
import static io.vaultmfa.operator.testing.EnrolledOnce.outsideCalls;
import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.matching.RequestPatternBuilder;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.testing.FaultProxy;
import io.vaultmfa.operator.testing.RetryPace;
import io.vaultmfa.operator.testing.WithOperator;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * IAM failing under the operator, through a fault-injecting proxy in front of moto: throttling, a
 * 5xx on the call that enables the device, a create race lost to someone else, an answer lost after
 * the call took effect, a full MFA device quota, and a user that cannot be deleted. Each ends in
 * its condition reason (or Event, on deletion), is retried with backoff while the AWS SDK tries
 * each call at most three times, and recovers once the fault clears with exactly one device and its
 * key and nothing left over (invariants I1, I3). Retry waits are scaled down (200 ms doubling to 3
 * s).
 */
class IamFailureIT extends WithOperator {

  private static final Duration FIRST_WAIT = Duration.ofMillis(200);
  private static final Duration MAX_WAIT = Duration.ofSeconds(3);
  private static final RetryPace PACE = new RetryPace(FIRST_WAIT, MAX_WAIT);

  /** The AWS SDK's standard retry mode: one call is tried at most this often. */
  private static final int SDK_TRIES = 3;

  private static FaultProxy iam;

  @BeforeAll
  static void throughProxy() {
    iam = FaultProxy.inFrontOf(h.moto.endpoint().toString());
    h.stopOperator();
    h.startOperator(
        Map.of(
            Setting.RETRY_INITIAL_INTERVAL, FIRST_WAIT.toMillis() + "ms",
            Setting.RETRY_MAX_INTERVAL, MAX_WAIT.toSeconds() + "s"),
        List.of(iam.awsRoute()));
  }

  @AfterEach
  void heal() {
    iam.heal();
  }

  @AfterAll
  static void closeProxy() {
    h.stopOperator();
    iam.close();
  }

  /** IAM answers 400 Throttling to the device create: reason Throttled, retried, then enrolled. */
  @Test
  void throttlingIsRetriedWithBackoffAndRecovered() {
    String user = "iam-throttled";
    iam.inject(
        action("CreateVirtualMFADevice", "VirtualMFADeviceName=" + user)
            .willReturn(iamError(400, "Throttling", "Rate exceeded")));

    h.apply(binding("iam-throttled", "b", user));

    Condition c = h.awaitCondition("iam-throttled", "b", "DeviceEnrolled", "False", "Throttled");
    assertThat(c.getMessage()).contains("Throttling").contains("Rate exceeded");
    assertRetriedWithBackoff(
        "throttled",
        called("ListMFADevices", "UserName=" + user),
        called("CreateVirtualMFADevice", "VirtualMFADeviceName=" + user));

    recover("throttled", "iam-throttled", user);
  }

  /**
   * IAM answers 500 to the enable call. The operator cannot tell whether the device was enabled, so
   * it keeps device and key and looks again; the next attempt finds the device unassigned, deletes
   * it as a leftover and enrols afresh. Reason AwsError; in the end one device.
   */
  @Test
  void failingEnableIsRetriedWithBackoffAndLeavesOneDevice() {
    String user = "iam-failing";
    iam.inject(
        action("EnableMFADevice", "UserName=" + user)
            .willReturn(iamError(500, "ServiceFailure", "Request processing has failed")));

    h.apply(binding("iam-failing", "b", user));

    Condition c = h.awaitCondition("iam-failing", "b", "DeviceEnrolled", "False", "AwsError");
    assertThat(c.getMessage()).contains("ServiceFailure");
    assertRetriedWithBackoff(
        "5xx",
        called("GetUser", "UserName=" + user),
        called("EnableMFADevice", "UserName=" + user));

    recover("5xx", "iam-failing", user);
  }

  /**
   * Someone creates the user between the operator's read and its create: CreateUser answers
   * EntityAlreadyExists, reason Conflict, nothing is overwritten; once the read sees the user it is
   * adopted.
   */
  @Test
  void userCreatedByOthersDuringTheRaceIsAdopted() {
    String user = "iam-race";
    h.iam.createUser(r -> r.userName(user));
    iam.inject(
        action("GetUser", "UserName=" + user)
            .willReturn(
                iamError(404, "NoSuchEntity", "The user with name " + user + " cannot be found.")));

    h.apply(binding("iam-race", "b", user));

    Condition c = h.awaitCondition("iam-race", "b", "UserReady", "False", "Conflict");
    assertThat(c.getMessage()).contains("EntityAlreadyExists");
    RequestPatternBuilder creates = called("CreateUser", "UserName=" + user);
    await().atMost(Duration.ofSeconds(60)).until(() -> iam.count(creates) >= 5);
    PACE.assertBackedOff("create race", iam.times(creates));

    recover("create race", "iam-race", user);
    assertThat(h.condition("iam-race", "b", "UserReady").orElseThrow().getReason())
        .isEqualTo("UserAdopted");
  }

  /**
   * The device create reaches IAM but its answer is lost (slower than the SDK's 10 s per try). The
   * SDK tries again and IAM answers EntityAlreadyExists; the operator finds the unassigned device
   * by its tags, deletes it and creates it again: no duplicate, no orphan.
   */
  @Test
  void createWhoseAnswerWasLostLeavesNoDuplicate() {
    String user = "iam-lost";
    iam.inject(
        action("CreateVirtualMFADevice", "VirtualMFADeviceName=" + user)
            .inScenario("lost answer")
            .whenScenarioStateIs(STARTED)
            .willSetStateTo("answered")
            .willReturn(
                aResponse().proxiedFrom(h.moto.endpoint().toString()).withFixedDelay(12_000)));
    Map<String, Long> before = outsideCalls(h);

    h.apply(binding("iam-lost", "b", user));

    AwsMfaBinding ready = h.awaitReady("iam-lost", "b");
    System.out.printf("recovery from a lost IAM answer: %s outside calls%n", callsSince(h, before));
    assertEnrolledOnce(h, user, "iam-lost.b", ready.getStatus().getSerialNumber());
    assertThat(iam.count(called("CreateVirtualMFADevice", "VirtualMFADeviceName=" + user)))
        .as("device creates: the lost one, its retry, the one after the leftover was removed")
        .isEqualTo(3);
    assertThat(h.events("iam-lost")).extracting(Event::getReason).contains("LeftoverDeviceRemoved");
  }

  /**
   * The user has its 8 MFA devices already: IAM answers LimitExceeded to the enable call (moto does
   * not count devices, so the proxy answers as IAM does). Each attempt rolls its device and key
   * back; once a slot is free the binding enrols.
   */
  @Test
  void fullDeviceQuotaIsReportedAndRolledBackUntilASlotIsFree() {
    String user = "iam-quota";
    iam.inject(
        action("EnableMFADevice", "UserName=" + user)
            .willReturn(
                iamError(409, "LimitExceeded", "Cannot exceed quota for MFADevicesPerUser: 8")));

    h.apply(binding("iam-quota", "b", user));

    Condition c = h.awaitCondition("iam-quota", "b", "DeviceEnrolled", "False", "LimitExceeded");
    assertThat(c.getMessage()).contains("MFADevicesPerUser");
    RequestPatternBuilder enables = called("EnableMFADevice", "UserName=" + user);
    await().atMost(Duration.ofSeconds(60)).until(() -> iam.count(enables) >= 5);
    PACE.assertBackedOff("quota", iam.times(enables));
    // The attempt whose enable the proxy just answered may still be rolling back.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(h.virtualDevicesNamed("/", user))
                  .as("devices left by the rolled-back attempts")
                  .isEmpty();
              assertThat(h.vaultRead("totp/keys/iam-quota.b"))
                  .as("key left by the rolled-back attempts")
                  .isEmpty();
            });

    recover("quota", "iam-quota", user);
  }

  /**
   * A person put an inline policy on the user this binding created: IAM refuses to delete the user
   * (DeleteConflict, from moto itself). Deletion reports CleanupFailed and is retried with backoff;
   * once the policy is gone the user is deleted and the binding goes.
   */
  @Test
  void userThatCannotBeDeletedIsRetriedUntilItCanBe() {
    String user = "iam-delconf";
    h.apply(binding("iam-delconf", "b", user));
    h.awaitReady("iam-delconf", "b");
    h.iam.putUserPolicy(
        r ->
            r.userName(user)
                .policyName("by-hand")
                .policyDocument(
                    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                        + "\"Action\":\"s3:ListBucket\",\"Resource\":\"*\"}]}"));

    h.delete("iam-delconf", "b");

    RequestPatternBuilder deletes = called("DeleteUser", "UserName=" + user);
    await().atMost(Duration.ofSeconds(60)).until(() -> iam.count(deletes) >= 5);
    PACE.assertBackedOff("delete conflict", iam.times(deletes));
    assertThat(h.events("iam-delconf"))
        .filteredOn(e -> "CleanupFailed".equals(e.getReason()))
        .extracting(Event::getMessage)
        .anySatisfy(m -> assertThat(m).contains("DeleteConflict"));
    assertThat(h.get("iam-delconf", "b"))
        .as("binding kept while its user cannot be deleted")
        .isNotNull();
    Condition ready = h.condition("iam-delconf", "b", "Ready").orElseThrow();
    assertThat(ready.getStatus()).isEqualTo("False");
    assertThat(ready.getReason()).isEqualTo("Deleting");
    assertThat(ready.getMessage()).contains("retried").contains("DeleteConflict");

    Map<String, Long> before = outsideCalls(h);
    h.iam.deleteUserPolicy(r -> r.userName(user).policyName("by-hand"));
    h.awaitGone("iam-delconf", "b");
    System.out.printf(
        "recovery from IAM delete conflict: %s outside calls%n", callsSince(h, before));

    assertThat(h.userExists(user)).isFalse();
    assertThat(h.virtualDevicesNamed("/", user)).isEmpty();
    assertThat(h.vaultRead("totp/keys/iam-delconf.b")).isEmpty();
  }

  /**
   * The failing call is tried at most {@link #SDK_TRIES} times per attempt, and attempts (counted
   * by a call made once in each) are spaced by the backoff.
   */
  private static void assertRetriedWithBackoff(
      String fault, RequestPatternBuilder oncePerAttempt, RequestPatternBuilder failing) {
    await().atMost(Duration.ofSeconds(90)).until(() -> iam.count(oncePerAttempt) >= 5);
    List<Instant> attempts = iam.times(oncePerAttempt);
    PACE.assertBackedOff("IAM " + fault, attempts);
    assertThat(iam.count(failing))
        .as("tries of the failing call in %d attempts", attempts.size())
        .isBetween(attempts.size() - 1, SDK_TRIES * (attempts.size() + 1));
  }

  private static void recover(String fault, String ns, String user) {
    Map<String, Long> before = outsideCalls(h);
    iam.heal();
    AwsMfaBinding ready = h.awaitReady(ns, "b");
    System.out.printf("recovery from IAM %s: %s outside calls%n", fault, callsSince(h, before));
    assertEnrolledOnce(h, user, ns + ".b", ready.getStatus().getSerialNumber());
  }

  /** IAM's query API: every call is a form POST naming its action. */
  private static MappingBuilder action(String action, String parameter) {
    return post(urlPathEqualTo("/"))
        .withRequestBody(containing("Action=" + action + "&"))
        .withRequestBody(containing(parameter));
  }

  private static RequestPatternBuilder called(String action, String parameter) {
    return postRequestedFor(urlPathEqualTo("/"))
        .withRequestBody(containing("Action=" + action + "&"))
        .withRequestBody(containing(parameter));
  }

  private static ResponseDefinitionBuilder iamError(int status, String code, String message) {
    return aResponse()
        .withStatus(status)
        .withHeader("Content-Type", "text/xml")
        .withBody(
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>"
                + "<Type>"
                + (status >= 500 ? "Receiver" : "Sender")
                + "</Type><Code>"
                + code
                + "</Code><Message>"
                + message
                + "</Message></Error><RequestId>4f3c-fault-proxy</RequestId></ErrorResponse>");
  }
}
