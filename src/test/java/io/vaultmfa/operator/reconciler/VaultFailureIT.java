package io.vaultmfa.operator.reconciler;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static io.vaultmfa.operator.testing.EnrolledOnce.assertEnrolledOnce;
import static io.vaultmfa.operator.testing.EnrolledOnce.callsSince;
import static io.vaultmfa.operator.testing.EnrolledOnce.outsideCalls;
import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.matching.RequestPatternBuilder;
import io.fabric8.kubernetes.api.model.Condition;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.testing.FaultProxy;
import io.vaultmfa.operator.testing.RetryPace;
import io.vaultmfa.operator.testing.WithOperator;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.services.iam.model.AssignmentStatusType;
import software.amazon.awssdk.services.iam.model.MFADevice;
import software.amazon.awssdk.services.iam.model.VirtualMFADevice;

/**
 * Vault failing under the operator: a mount that does not exist (refused, terminal), and, through a
 * fault-injecting proxy in front of OpenBao, Vault sealed, denying, failing, unreachable and slow.
 * Each ends in its condition reason, is retried with backoff (never a tight loop: the proxy counts
 * the calls), and recovers once the fault clears with exactly one device and its key (invariants
 * I1, I3). Retry waits are scaled down (200 ms doubling to 3 s) so a test takes seconds.
 */
class VaultFailureIT extends WithOperator {

  private static final Duration FIRST_WAIT = Duration.ofMillis(200);
  private static final Duration MAX_WAIT = Duration.ofSeconds(3);
  private static final RetryPace PACE = new RetryPace(FIRST_WAIT, MAX_WAIT);

  private static FaultProxy vault;

  @BeforeAll
  static void throughProxy() {
    vault = FaultProxy.inFrontOf(h.bao.address());
    h.stopOperator();
    h.startOperator(
        Map.of(
            Setting.VAULT_ADDRESS, vault.address(),
            Setting.RETRY_INITIAL_INTERVAL, FIRST_WAIT.toMillis() + "ms",
            Setting.RETRY_MAX_INTERVAL, MAX_WAIT.toSeconds() + "s"));
  }

  @AfterEach
  void heal() {
    vault.start();
    vault.heal();
  }

  @AfterAll
  static void closeProxy() {
    h.stopOperator();
    vault.close();
  }

  static Stream<Arguments> vaultAnswers() {
    return Stream.of(
        arguments(
            "sealed", vaultError(503, "Vault is sealed"), "VaultUnavailable", "Vault is sealed"),
        arguments(
            "denied",
            vaultError(403, "permission denied"),
            "VaultDenied",
            "403: permission denied"),
        arguments(
            "failing",
            vaultError(500, "internal error"),
            "VaultUnavailable",
            "500: internal error"),
        arguments(
            "reset",
            aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER),
            "VaultUnavailable",
            "Unreachable"));
  }

  /**
   * Vault answers this binding's key paths with an error from the start. Nothing is created in IAM
   * while the key cannot even be read; the read is retried with backoff; once Vault answers again
   * the binding enrols.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("vaultAnswers")
  void faultIsReportedRetriedWithBackoffAndRecovered(
      String fault, ResponseDefinitionBuilder answer, String reason, String message) {
    String ns = "vault-" + fault;
    String user = "vault-" + fault;
    String key = "vf-" + fault;
    vault.inject(any(urlPathMatching("/v1/totp/(keys|code)/" + key)).willReturn(answer));
    RequestPatternBuilder keyCalls =
        anyRequestedFor(urlPathMatching("/v1/totp/(keys|code)/" + key));

    h.apply(withKey(binding(ns, "b", user), key));

    Condition c = h.awaitCondition(ns, "b", "VaultKeyReady", "False", reason);
    assertThat(c.getMessage()).contains(message);
    assertThat(h.condition(ns, "b", "Ready").orElseThrow().getReason()).isEqualTo(reason);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> RetryPace.attempts(vault.times(keyCalls)).size() >= 6);
    PACE.assertBackedOff("Vault " + fault, RetryPace.attempts(vault.times(keyCalls)));
    assertThat(h.virtualDevicesNamed("/", user)).as("devices made while Vault fails").isEmpty();

    recover(fault, ns, user, key, () -> vault.heal());
  }

  /** Vault's port is closed: connections are refused. */
  @Test
  void unreachableVaultIsRetriedWithBackoffAndRecovered() {
    String ns = "vault-down";
    String user = "vault-down";
    String key = "vf-down";
    vault.stop();

    h.apply(withKey(binding(ns, "b", user), key));

    Condition c = h.awaitCondition(ns, "b", "VaultKeyReady", "False", "VaultUnavailable");
    assertThat(c.getMessage()).contains("Unreachable").contains("Connection refused");
    Instant from = Instant.now();
    long before = h.calls.count("vault", "ReadKey");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> h.calls.count("vault", "ReadKey") >= before + 4);
    Duration window = Duration.between(from, Instant.now());
    assertThat(h.calls.count("vault", "ReadKey") - before)
        .as("Vault reads in %s while Vault was down", window)
        .isLessThanOrEqualTo(PACE.mostAttemptsWithin(window));

    recover("down", ns, user, key, () -> vault.start());
  }

  /**
   * Vault takes longer than the client's 15 s read timeout to answer the key write; the write takes
   * effect all the same. The enrolment is rolled back, and the key it may have written goes with
   * the device: no seed of a deleted device stays in Vault.
   */
  @Test
  void slowVaultTimesOutAndLeavesNoKeyBehind() {
    String ns = "vault-slow";
    String user = "vault-slow";
    String key = "vf-slow";
    vault.inject(
        post(urlPathEqualTo("/v1/totp/keys/" + key))
            .willReturn(aResponse().proxiedFrom(h.bao.address()).withFixedDelay(20_000)));

    h.apply(withKey(binding(ns, "b", user), key));

    Condition c = h.awaitCondition(ns, "b", "VaultKeyReady", "False", "VaultUnavailable");
    assertThat(c.getMessage()).contains("timed out");
    // The first attempt sends the write once, never again, before its rollback deletes the key;
    // the next attempt, which the backoff may already have started, comes after that delete.
    Instant rollback =
        vault.times(deleteRequestedFor(urlPathEqualTo("/v1/totp/keys/" + key))).get(0);
    assertThat(vault.times(postRequestedFor(urlPathEqualTo("/v1/totp/keys/" + key))))
        .as("key writes of the first attempt, before its rollback at %s", rollback)
        .filteredOn(w -> w.isBefore(rollback))
        .hasSize(1);
    // The next attempt may already be writing again (its write lands at once and is held for
    // 20 s too), so look for a moment between attempts: a rollback that left the key would leave
    // it there for good.
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(h.vaultRead("totp/keys/" + key))
                  .as("key left after the rollback")
                  .isEmpty();
              assertThat(h.virtualDevicesNamed("/", user))
                  .as("devices left after the rollback")
                  .isEmpty();
            });

    recover("slow", ns, user, key, () -> vault.heal());
  }

  /** Clears the fault; the binding becomes Ready with one device and its key. */
  private static void recover(String fault, String ns, String user, String key, Runnable clear) {
    Map<String, Long> calls = outsideCalls(h);
    clear.run();
    AwsMfaBinding ready = h.awaitReady(ns, "b");
    System.out.printf("recovery from Vault %s: %s outside calls%n", fault, callsSince(h, calls));
    assertEnrolledOnce(h, user, key, ready.getStatus().getSerialNumber());
  }

  private static AwsMfaBinding withKey(AwsMfaBinding b, String key) {
    b.getSpec().getVault().setKeyName(key);
    return b;
  }

  private static ResponseDefinitionBuilder vaultError(int status, String error) {
    return aResponse()
        .withStatus(status)
        .withHeader("Content-Type", "application/json")
        .withBody("{\"errors\":[\"" + error + "\"]}");
  }

  @Test
  void missingMountIsReportedAndNoDeviceIsLeft() {
    AwsMfaBinding b = binding("vault-a", "nomount", "vault-nomount");
    b.getSpec().getVault().setMount("no-such-totp");
    h.apply(b);

    Condition key =
        h.awaitCondition("vault-a", "nomount", "VaultKeyReady", "False", "VaultRejected");
    assertThat(key.getMessage()).as("VaultKeyReady message").contains("no-such-totp");
    assertThat(h.condition("vault-a", "nomount", "Ready"))
        .get()
        .extracting(Condition::getStatus)
        .isEqualTo("False");

    List<String> devices =
        h
            .iam
            .listVirtualMFADevicesPaginator(r -> r.assignmentStatus(AssignmentStatusType.ANY))
            .virtualMFADevices()
            .stream()
            .map(VirtualMFADevice::serialNumber)
            .toList();
    assertThat(devices).as("virtual MFA devices in the account").isEmpty();
    assertThat(h.iam.listMFADevices(r -> r.userName("vault-nomount")).mfaDevices())
        .as("devices enabled on vault-nomount")
        .extracting(MFADevice::serialNumber)
        .isEmpty();
  }

  @Test
  void readyCarriesTheVaultReasonNotReconciling() {
    // What `kubectl get awsmfabindings` shows in its Reason column: the failed step's reason.
    // VaultRejected is terminal (no retry until the next resync), so "Reconciling" would say
    // something is in progress when nothing is.
    AwsMfaBinding b = binding("vault-b", "nomount", "vault-nomount-b");
    b.getSpec().getVault().setMount("no-such-totp");
    h.apply(b);
    h.awaitCondition("vault-b", "nomount", "VaultKeyReady", "False", "VaultRejected");

    assertThat(h.condition("vault-b", "nomount", "Ready"))
        .get()
        .extracting(Condition::getReason)
        .as("Ready reason")
        .isEqualTo("VaultRejected");
  }
}
