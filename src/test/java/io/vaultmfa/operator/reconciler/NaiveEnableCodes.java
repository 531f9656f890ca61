package io.vaultmfa.operator.reconciler;

import io.vaultmfa.operator.totp.Seed;
import io.vaultmfa.operator.vault.TotpEngine;
import java.time.Clock;
import java.time.Instant;

/**
 * The benchmark's baseline, not used by the operator: enrolment as a person (or a simple script)
 * does it with Vault's TOTP engine. Waits for the next 30-second window, reads Vault's code, waits
 * for the window after, reads the code again, and enables the device with the two. Each enrolment
 * therefore holds its reconcile thread for 30 to 60 seconds. The operator instead computes the
 * codes of the previous and current windows from the seed it holds during enrolment (DESIGN.md
 * section 3, step 3) and does not wait.
 */
public final class NaiveEnableCodes implements DeviceStep.EnableCodes {

  /** Read a code this far into a window, so that Vault's clock is surely in it too. */
  private static final long MARGIN_MS = 500;

  private final TotpEngine vault;
  private final Clock clock;

  private NaiveEnableCodes(TotpEngine vault, Clock clock) {
    this.vault = vault;
    this.clock = clock;
  }

  /** Builds the operator's reconciler with this enrolment in place of its own. */
  public static AwsMfaBindingReconciler.Factory reconcilers() {
    Clock clock = Clock.systemUTC();
    return (settings, iam, vault) ->
        new AwsMfaBindingReconciler(
            settings,
            iam,
            vault,
            clock,
            NaiveEnableCodes::sleepUntil,
            new NaiveEnableCodes(vault, clock));
  }

  @Override
  public void enable(Run run, String user, String serial, Seed seed) {
    Desired d = run.desired();
    String first = codeOfNextWindow(d);
    String second = codeOfNextWindow(d);
    run.iam().enableDevice(user, serial, first, second);
  }

  private String codeOfNextWindow(Desired d) {
    long window = clock.millis() / 1000 / DeviceStep.PERIOD;
    try {
      sleepUntil(Instant.ofEpochMilli((window + 1) * DeviceStep.PERIOD * 1000 + MARGIN_MS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the next TOTP window", e);
    }
    return vault.code(d.mount(), d.keyName());
  }

  private static void sleepUntil(Instant t) throws InterruptedException {
    long ms = t.toEpochMilli() - System.currentTimeMillis();
    if (ms > 0) {
      Thread.sleep(ms);
    }
  }
}
