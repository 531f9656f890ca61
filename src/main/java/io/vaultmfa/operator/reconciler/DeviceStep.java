package io.vaultmfa.operator.reconciler;

import io.vaultmfa.operator.api.ConditionType;
import io.vaultmfa.operator.api.Reason;
import io.vaultmfa.operator.iam.CreatedDevice;
import io.vaultmfa.operator.iam.Iam;
import io.vaultmfa.operator.iam.IamUser;
import io.vaultmfa.operator.iam.MfaDevice;
import io.vaultmfa.operator.iam.Ownership;
import io.vaultmfa.operator.outside.Outcome;
import io.vaultmfa.operator.outside.OutsideCallException;
import io.vaultmfa.operator.totp.Seed;
import io.vaultmfa.operator.vault.TotpEngine;
import io.vaultmfa.operator.vault.TotpKey;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step 3: exactly one enabled device of this binding on the user, whose seed is the Vault key.
 *
 * <p>Enrolment order keeps invariant I1 (no enabled device without its seed in Vault): create the
 * device, write the seed to Vault, prove Vault computes the same codes, and only then enable. Any
 * failure before the device is enabled removes the device and the key again.
 */
final class DeviceStep {

  private static final Logger LOG = LoggerFactory.getLogger(DeviceStep.class);
  private static final Object[] KEY_LOCKS = new Object[64];

  static {
    for (int i = 0; i < KEY_LOCKS.length; i++) {
      KEY_LOCKS[i] = new Object();
    }
  }

  static final long PERIOD = 30;

  /** Sleeps until a given instant; tests replace it. */
  interface Sleeper {
    void sleepUntil(Instant t) throws InterruptedException;
  }

  private final TotpEngine vault;
  private final Clock clock;
  private final Sleeper sleeper;

  DeviceStep(TotpEngine vault, Clock clock, Sleeper sleeper) {
    this.vault = vault;
    this.clock = clock;
    this.sleeper = sleeper;
  }

  void ensure(Run run, IamUser user) {
    Desired d = run.desired();
    // Two bindings naming the same Vault key must not interleave between reading the key and
    // enabling the device whose seed it holds (I1). One enrolment per key at a time, per stripe.
    synchronized (KEY_LOCKS[Math.floorMod((d.mount() + "/" + d.keyName()).hashCode(), 64)]) {
      ensureLocked(run, user);
    }
  }

  private void ensureLocked(Run run, IamUser user) {
    Desired d = run.desired();
    Observed seen;
    Optional<TotpKey> key;
    try {
      seen = observe(run, user.name());
      key = vault.readKey(d.mount(), d.keyName());
    } catch (OutsideCallException e) {
      throw StepFailure.of(ConditionType.DeviceEnrolled, e);
    }
    String account = accountName(run, user);
    boolean keyIsOurs = key.isPresent() && key.get().accountName().equals(account);
    Optional<MfaDevice> ours = seen.ours();
    if (ours.isPresent() && keyIsOurs) {
      recordEnrolled(run, ours.get().serialNumber(), ours.get().enabledAt());
      return;
    }
    if (ours.isPresent()) {
      // The key is gone, or now holds another account's seed: nobody can produce this device's
      // codes. Remove the useless device (I1), then enrol again below.
      String serial = ours.get().serialNumber();
      try {
        run.iam().deactivateDevice(user.name(), serial);
        run.iam().deleteVirtualDevice(serial);
      } catch (OutsideCallException e) {
        throw StepFailure.of(ConditionType.DeviceEnrolled, e);
      }
      String what = key.isPresent() ? "held another account's seed" : "was missing";
      LOG.info("Vault key {} {}; removed device {}", d.keyName(), what, serial);
      run.events()
          .normal(
              run.binding(),
              EventReason.DriftRepaired,
              "Vault key "
                  + d.mount()
                  + "/keys/"
                  + d.keyName()
                  + " "
                  + what
                  + "; removed MFA device "
                  + serial
                  + ", whose codes nobody could produce");
      run.status().setSerialNumber(null);
    }
    if (key.isPresent() && (seen.otherBindingOnUser() || !keyIsOurs)) {
      // A key of this name that this binding did not leave behind: overwriting it would take
      // the seed of someone else's device away (I1, I4).
      throw new StepFailure(
          ConditionType.VaultKeyReady,
          Reason.Conflict,
          "Vault key "
              + d.mount()
              + "/keys/"
              + d.keyName()
              + " already exists for "
              + key.get().accountName()
              + " and does not belong to this binding; delete the binding and create it again"
              + " with another spec.vault.keyName");
    }
    enrol(run, user);
  }

  /**
   * Finds the enabled device of this binding by its ownership tags. The serial in status is only a
   * hint of which device to look at first: a serial is path and name, and comes back when a person
   * re-creates a device of the same name. A device of the same name that carries someone else's
   * tags is a conflict.
   */
  private Observed observe(Run run, String user) {
    List<MfaDevice> enabled = new java.util.ArrayList<>(run.iam().enabledDevices(user));
    String recorded = run.status().getSerialNumber();
    enabled.sort(
        java.util.Comparator.comparing((MfaDevice m) -> !m.serialNumber().equals(recorded)));
    String suffix = ":mfa" + run.desired().devicePath() + run.desired().deviceName();
    boolean others = false;
    for (MfaDevice m : enabled) {
      if (!m.isVirtual()) {
        continue;
      }
      var tags = run.iam().deviceTags(m.serialNumber());
      if (run.desired().ownership().owns(tags)) {
        return new Observed(Optional.of(m), false);
      }
      others |= Ownership.managed(tags);
      if (m.serialNumber().endsWith(suffix)) {
        throw new StepFailure(
            ConditionType.DeviceEnrolled,
            Reason.Conflict,
            "MFA device "
                + m.serialNumber()
                + " is already enabled on IAM user "
                + user
                + (Ownership.managed(tags)
                    ? " by another binding (" + tags.get(Ownership.BINDING_TAG) + ")"
                    : " and was not created by this operator"));
      }
    }
    return new Observed(Optional.empty(), others);
  }

  /** This binding's enabled device, if any, and whether another binding has one on the user. */
  private record Observed(Optional<MfaDevice> ours, boolean otherBindingOnUser) {}

  private void enrol(Run run, IamUser user) {
    Desired d = run.desired();
    Iam iam = run.iam();
    CreatedDevice device = createDevice(run);
    Seed seed = device.seed();
    boolean keyWritten = false;
    try {
      try {
        vault.writeKey(d.mount(), d.keyName(), seed, d.issuer(), accountName(run, user));
      } catch (OutsideCallException e) {
        // A write that timed out or failed on Vault's side may have taken effect: roll the key
        // back with the device, so that no seed of a deleted device stays in Vault (I3).
        keyWritten = e.is(Outcome.RETRYABLE);
        throw e;
      }
      keyWritten = true;
      checkVaultHolds(run, seed);
      enable(iam, user.name(), device.serialNumber(), seed);
    } catch (OutcomeUnknown e) {
      throw e;
    } catch (RuntimeException e) {
      rollBack(run, device.serialNumber(), keyWritten);
      if (e instanceof OutsideCallException oce) {
        ConditionType step =
            oce.system().equals("vault")
                ? ConditionType.VaultKeyReady
                : ConditionType.DeviceEnrolled;
        throw StepFailure.of(step, oce);
      }
      throw e;
    }
    // From here on the seed is not used again; the reference goes out of scope with this frame.
    Instant now = Instant.now(clock).truncatedTo(ChronoUnit.SECONDS);
    LOG.info("enabled MFA device {} on IAM user {}", device.serialNumber(), user.name());
    run.events()
        .normal(
            run.binding(),
            EventReason.DeviceEnrolled,
            "Enabled MFA device " + device.serialNumber() + "; codes at " + d.codePath());
    run.status().setEnabledAt(now.toString());
    recordEnrolled(run, device.serialNumber(), now);
  }

  /**
   * Creates the device. When IAM says the name is taken, a leftover unassigned device of this
   * binding (from a crash before enabling, I3) is deleted and the create tried once more.
   */
  private CreatedDevice createDevice(Run run) {
    Desired d = run.desired();
    Iam iam = run.iam();
    try {
      try {
        return iam.createVirtualDevice(d.deviceName(), d.devicePath(), d.ownership().tags());
      } catch (OutsideCallException e) {
        if (!e.hasCode("EntityAlreadyExists")) {
          throw e;
        }
      }
      boolean removed = false;
      for (String serial : iam.unassignedDevices(d.devicePath(), d.deviceName())) {
        if (d.ownership().owns(iam.deviceTags(serial))) {
          iam.deleteVirtualDevice(serial);
          removed = true;
          LOG.info("deleted leftover unassigned MFA device {}", serial);
          run.events()
              .normal(
                  run.binding(),
                  EventReason.LeftoverDeviceRemoved,
                  "Deleted unassigned MFA device " + serial + " left by an interrupted enrolment");
        }
      }
      if (!removed) {
        throw new StepFailure(
            ConditionType.DeviceEnrolled,
            Reason.Conflict,
            "a virtual MFA device named "
                + d.devicePath()
                + d.deviceName()
                + " already exists and does not belong to this binding;"
                + " set spec.mfaDevice.name to another name");
      }
      return iam.createVirtualDevice(d.deviceName(), d.devicePath(), d.ownership().tags());
    } catch (OutsideCallException e) {
      throw StepFailure.of(ConditionType.DeviceEnrolled, e);
    }
  }

  /**
   * Vault must compute the same code as the seed IAM issued. Vault uses its own clock, so a read
   * that straddles a window edge is compared with both windows, and a mismatch is checked once more
   * before it counts.
   */
  private void checkVaultHolds(Run run, Seed seed) {
    Desired d = run.desired();
    for (int attempt = 0; attempt < 2; attempt++) {
      long before = clock.instant().getEpochSecond();
      String code = vault.code(d.mount(), d.keyName());
      long after = clock.instant().getEpochSecond();
      if (code.equals(seed.codeAt(before)) || code.equals(seed.codeAt(after))) {
        return;
      }
    }
    throw new StepFailure(
        ConditionType.VaultKeyReady,
        Reason.CodeMismatch,
        "the code Vault computes at "
            + d.codePath()
            + " differs from the code of the device's seed; check Vault's clock");
  }

  /**
   * Enables with the codes of the previous and the current window, so enrolment never waits. If IAM
   * refuses them, waits once for the next window and sends a fresh pair.
   */
  void enable(Iam iam, String user, String serial, Seed seed) {
    long now = clock.instant().getEpochSecond();
    String previous = seed.codeAt(now - PERIOD);
    String current = seed.codeAt(now);
    if (!previous.equals(current)) {
      try {
        iam.enableDevice(user, serial, previous, current);
        return;
      } catch (OutsideCallException e) {
        if (!e.hasCode("InvalidAuthenticationCode")) {
          if (tookEffect(iam, user, serial, e)) {
            return; // The call took effect; only its answer was lost.
          }
          throw e;
        }
        LOG.debug("IAM refused the codes of {}; waiting for the next window", serial);
      }
    }
    long next = (now / PERIOD + 1) * PERIOD;
    try {
      sleeper.sleepUntil(Instant.ofEpochSecond(next));
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new StepFailure(
          ConditionType.DeviceEnrolled,
          Reason.InvalidCodes,
          "interrupted while waiting for the next TOTP window");
    }
    long later = Math.max(clock.instant().getEpochSecond(), next);
    try {
      iam.enableDevice(user, serial, seed.codeAt(later - PERIOD), seed.codeAt(later));
    } catch (OutsideCallException e) {
      if (e.hasCode("InvalidAuthenticationCode")) {
        throw new StepFailure(
            ConditionType.DeviceEnrolled,
            Reason.InvalidCodes,
            "IAM refused two pairs of consecutive codes for "
                + serial
                + "; check the operator's clock");
      }
      if (tookEffect(iam, user, serial, e)) {
        return;
      }
      throw e;
    }
  }

  /**
   * After an enable call failed: true when IAM lists the device as enabled after all, false when it
   * surely is not, so that rolling back (deleting the key) cannot leave an enabled device without
   * its seed (I1). A call that may have taken effect (no answer, a 5xx) whose result cannot be
   * confirmed either way ends in {@link OutcomeUnknown}: nothing is rolled back, and the next
   * reconcile finds either the enabled device with its key or an unassigned leftover.
   */
  private static boolean tookEffect(
      Iam iam, String user, String serial, OutsideCallException failure) {
    boolean enabled;
    try {
      enabled = iam.enabledDevices(user).stream().anyMatch(m -> m.serialNumber().equals(serial));
    } catch (OutsideCallException e) {
      if (failure.is(Outcome.RETRYABLE)) {
        throw new OutcomeUnknown(serial, failure);
      }
      return false;
    }
    if (enabled) {
      return true;
    }
    if (failure.is(Outcome.RETRYABLE)) {
      // IAM reads may lag behind writes: a 5xx or a lost answer is not proof of "not enabled".
      throw new OutcomeUnknown(serial, failure);
    }
    return false;
  }

  /** The enable call may have taken effect; keep the device and the key, look again later. */
  static final class OutcomeUnknown extends StepFailure {
    OutcomeUnknown(String serial, OutsideCallException cause) {
      super(
          ConditionType.DeviceEnrolled,
          Reason.AwsError,
          "cannot tell whether MFA device "
              + serial
              + " was enabled ("
              + cause.getMessage()
              + "); checking again",
          cause);
    }
  }

  /** Undo an enrolment that did not finish: the key first, then the unassigned device. */
  private void rollBack(Run run, String serial, boolean keyWritten) {
    Desired d = run.desired();
    if (keyWritten) {
      try {
        vault.deleteKey(d.mount(), d.keyName());
      } catch (OutsideCallException e) {
        LOG.warn("cannot delete Vault key after a failed enrolment: {}", e.getMessage());
      }
    }
    try {
      run.iam().deleteVirtualDevice(serial);
    } catch (OutsideCallException e) {
      // Left unassigned; the next enrolment finds it by name and tags and deletes it (I3).
      LOG.warn("cannot delete MFA device after a failed enrolment: {}", e.getMessage());
    }
    run.events()
        .warning(
            run.binding(),
            EventReason.EnrolmentRolledBack,
            "Enrolment of "
                + serial
                + " did not finish; the device"
                + (keyWritten ? " and the Vault key were" : " was")
                + " removed");
  }

  private void recordEnrolled(Run run, String serial, Instant enabledAt) {
    run.status().setVaultCodePath(run.desired().codePath());
    var st = run.status();
    if (!serial.equals(st.getSerialNumber()) || st.getEnabledAt() == null) {
      st.setEnabledAt(
          enabledAt == null ? null : enabledAt.truncatedTo(ChronoUnit.SECONDS).toString());
    }
    st.setSerialNumber(serial);
    run.conditions()
        .ok(
            ConditionType.DeviceEnrolled,
            Reason.Enrolled,
            "MFA device " + serial + " is enabled on IAM user " + run.desired().userName());
    run.conditions()
        .ok(
            ConditionType.VaultKeyReady,
            Reason.KeyPresent,
            "Vault key "
                + run.desired().mount()
                + "/keys/"
                + run.desired().keyName()
                + " holds the device's seed");
  }

  static String accountName(Run run, IamUser user) {
    return user.name() + "@" + Objects.requireNonNull(run.status().getAccountId());
  }
}
