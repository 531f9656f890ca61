package io.vaultmfa.operator.reconciler;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static io.vaultmfa.operator.testing.EnrolledOnce.assertEnrolledOnce;
import static io.vaultmfa.operator.testing.EnrolledOnce.callsSince;
import static io.vaultmfa.operator.testing.EnrolledOnce.outsideCalls;
import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.matching.RequestPatternBuilder;
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
 * Retries never give up on a binding, and never hammer what is failing. Time runs 40 times faster
 * than in production: the first wait is 50 ms instead of 2 s, the cap 7.5 s instead of 5 minutes,
 * so a ten-minute outage lasts 15 s.
 */
class RetryIT extends WithOperator {

  private static final int SCALE = 40;
  private static final Duration FIRST_WAIT = Duration.ofSeconds(2).dividedBy(SCALE);
  private static final Duration MAX_WAIT = Duration.ofMinutes(5).dividedBy(SCALE);
  private static final Duration OUTAGE = Duration.ofMinutes(10).dividedBy(SCALE);
  private static final RetryPace PACE = new RetryPace(FIRST_WAIT, MAX_WAIT);

  private static FaultProxy vault;

  @BeforeAll
  static void fastClock() {
    vault = FaultProxy.inFrontOf(h.bao.address());
    h.stopOperator();
    h.startOperator(
        Map.of(
            Setting.VAULT_ADDRESS, vault.address(),
            Setting.RETRY_INITIAL_INTERVAL, FIRST_WAIT.toMillis() + "ms",
            Setting.RETRY_MAX_INTERVAL, MAX_WAIT.toMillis() + "ms"));
  }

  @AfterEach
  void heal() {
    vault.heal();
  }

  @AfterAll
  static void closeProxy() {
    h.stopOperator();
    vault.close();
  }

  /**
   * Vault is sealed for ten (scaled) minutes. The binding is retried all along, each wait at least
   * half the backoff's ceiling, far more often than java-operator-sdk's default five retries and
   * far less often than a tight loop; once Vault is back, the very next attempt enrols it.
   */
  @Test
  void bindingRecoversAfterATenMinuteOutage() {
    String key = "outage";
    RequestPatternBuilder reads = getRequestedFor(urlPathEqualTo("/v1/totp/keys/" + key));
    vault.inject(
        any(urlPathMatching("/v1/.*"))
            .willReturn(
                aResponse()
                    .withStatus(503)
                    .withHeader("Content-Type", "application/json")
                    .withBody("{\"errors\":[\"Vault is sealed\"]}")));
    AwsMfaBinding b = binding("retry-outage", "b", "retry-outage");
    b.getSpec().getVault().setKeyName(key);

    h.apply(b);

    h.awaitCondition("retry-outage", "b", "VaultKeyReady", "False", "VaultUnavailable");
    Instant start = vault.times(reads).get(0);
    await()
        .atMost(OUTAGE.plusSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> Duration.between(start, Instant.now()).compareTo(OUTAGE) >= 0);
    List<Instant> during = vault.times(reads);
    Instant last = during.get(during.size() - 1);
    PACE.assertBackedOff("ten-minute outage", during);
    assertThat(during.size())
        .as("attempts during the outage, %s", during)
        .isGreaterThan(1 + 5)
        .isLessThanOrEqualTo(PACE.mostAttemptsWithin(Duration.between(start, last)));

    Map<String, Long> before = outsideCalls(h);
    Instant healed = Instant.now();
    vault.heal();
    AwsMfaBinding ready = h.awaitReady("retry-outage", "b");

    long afterwards = vault.times(reads).stream().filter(t -> t.isAfter(healed)).count();
    assertThat(afterwards).as("attempts after Vault came back").isLessThanOrEqualTo(2);
    System.out.printf(
        "ten-minute outage at 1/%d: %d attempts during it, Ready %d ms after it ended, %s outside"
            + " calls%n",
        SCALE,
        during.size(),
        Duration.between(healed, Instant.now()).toMillis(),
        callsSince(h, before));
    assertEnrolledOnce(h, "retry-outage", key, ready.getStatus().getSerialNumber());
  }

  /**
   * The API server answers 409 Conflict to every status write of the binding. Enrolment is done
   * once; the attempts that follow find the device by its tags, make nothing new, and are spaced by
   * the backoff; once writes go through the binding shows Ready.
   */
  @Test
  void statusWritesRefusedWithConflictAreRetriedWithBackoff() {
    String ns = "retry-409";
    RequestPatternBuilder reads = getRequestedFor(urlPathEqualTo("/v1/totp/keys/" + ns + ".b"));
    h.statusConflicts.refuse(ns, "b");
    long creates = h.calls.count("iam", "CreateVirtualMFADevice");

    h.apply(binding(ns, "b", ns));

    await().atMost(Duration.ofSeconds(60)).until(() -> vault.count(reads) >= 7);
    PACE.assertBackedOff("409 on status", vault.times(reads));
    assertThat(h.statusConflicts.refusedWrites(ns, "b").size())
        .as("status writes refused: the result's, one per attempt; a conflict is not reported")
        .isBetween(vault.count(reads) - 1, vault.count(reads) + 1);
    assertThat(h.events(ns))
        .as("a binding that changed under the reconcile is no failure to warn about")
        .noneMatch(e -> "Warning".equals(e.getType()));
    assertThat(h.calls.count("iam", "CreateVirtualMFADevice") - creates)
        .as("devices created while status could not be written")
        .isEqualTo(1);
    assertThat(h.condition(ns, "b", "Ready"))
        .as("Ready while every status write is refused")
        .isEmpty();

    Map<String, Long> before = outsideCalls(h);
    h.statusConflicts.accept(ns, "b");
    AwsMfaBinding ready = h.awaitReady(ns, "b");
    System.out.printf(
        "recovery from 409 on status writes: %s outside calls%n", callsSince(h, before));
    assertEnrolledOnce(h, ns, ns + ".b", ready.getStatus().getSerialNumber());
  }
}
