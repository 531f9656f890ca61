package io.vaultmfa.operator.reconciler;

import io.vaultmfa.operator.api.ConditionType;
import io.vaultmfa.operator.api.Reason;
import io.vaultmfa.operator.iam.CreatedDevice;
import io.vaultmfa.operator.iam.Iam;
import io.vaultmfa.operator.iam.IamUser;
import io.vaultmfa.operator.iam.MfaDevice;
import io.vaultmfa.operator.iam.Ownership;
import io.vaultmfa.operator.metrics.BindingMetrics;
import io.vaultmfa.operator.outside.Outcome;
import io.vaultmfa.operator.outside.OutsideCallException;
import io.vaultmfa.operator.totp.Seed;
import io.vaultmfa.operator.vault.TotpEngine;
import io.vaultmfa.operator.vault.TotpKey;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step 3: exactly one enabled device of this binding on the user, whose seed is the Vault key.
 *
 * <p>Enrolment order keeps invariant I1 (no enabled device without its seed in Vault): create the
 * device, write the seed to Vault, prove Vault computes the same codes, and only then enable. Any
 * failure before the device is enabled removes the device and the key again.
 *
 * <p>Rotation keeps I6 (make-before-break): the new device is enabled before the Vault key is
 * swapped to its seed, and the old device is removed only after that. While both are enabled the
 * new seed is also held under a staging key ({@link Desired#stagingKeyName()}), so a restart that
 * finds two enabled devices compares the codes of the two keys to learn which seed the real key
 * holds, keeps that device and removes the other.
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

  /**
   * Tag on each device: SHA-256 (hex) of the spec.rotation.token it was made for, so that a binding
   * whose status was lost does not rotate again for a token it already rotated for.
   */
  static final String TOKEN_TAG = "vaultmfa.io/rotation-token";

  /** Sleeps until a given instant; tests replace it. */
  interface Sleeper {
    void sleepUntil(Instant t) throws InterruptedException;
  }

  /** How a new device gets its two enable codes; the benchmark compares a naive way with ours. */
  interface EnableCodes {
    void enable(Run run, String user, String serial, Seed seed);
  }

  private final TotpEngine vault;
  private final Clock clock;
  private final Sleeper sleeper;
  private final EnableCodes enableCodes;

  /**
   * Enabled devices whose tags this process has read, per binding uid: serial number to enable date
   * and tags. A device listed again with the same serial number and enable date is the same device
   * (deleting it and creating one of the same name gives a new enable date), so its tags are not
   * read again: a Ready binding's resync costs ListMFADevices and one Vault read (I5).
   */
  private final Map<String, Map<String, Known>> known = new ConcurrentHashMap<>();

  /**
   * A device seen (or enabled) by this process: its IAM enable date, or, for a device this process
   * just enabled, the moments around the enable call, since the enable answer carries no date.
   */
  private record Known(
      Instant enabledAt, Instant notBefore, Instant notAfter, Map<String, String> tags) {

    boolean is(MfaDevice m) {
      if (m.enabledAt() == null) {
        return false;
      }
      return enabledAt != null
          ? m.enabledAt().equals(enabledAt)
          : !m.enabledAt().isBefore(notBefore) && !m.enabledAt().isAfter(notAfter);
    }
  }

  /** Clock difference allowed between the operator and IAM for a device this process enabled. */
  private static final java.time.Duration SKEW = java.time.Duration.ofSeconds(30);

  /** Remembers a device this process enabled between {@code from} and now, with its tags. */
  private void enabledHere(Run run, String serial, Instant from, Map<String, String> tags) {
    known
        .computeIfAbsent(run.desired().ownership().bindingUid(), k -> new ConcurrentHashMap<>())
        .put(serial, new Known(null, from.minus(SKEW), Instant.now(clock).plus(SKEW), tags));
  }

  DeviceStep(TotpEngine vault, Clock clock, Sleeper sleeper) {
    this(vault, clock, sleeper, null);
  }

  /** {@code enableCodes} null: {@link #enable}, the codes of the previous and current windows. */
  DeviceStep(TotpEngine vault, Clock clock, Sleeper sleeper, EnableCodes enableCodes) {
    this.vault = vault;
    this.clock = clock;
    this.sleeper = sleeper;
    this.enableCodes =
        enableCodes != null
            ? enableCodes
            : (run, user, serial, seed) -> enable(run.iam(), user, serial, seed);
  }

  /**
   * Ensures the device; {@code listed} are the user's enabled devices when the caller already
   * listed them. Returns when the spec's rotation interval next comes due, if it sets one.
   */
  Optional<Instant> ensure(Run run, IamUser user, Optional<List<MfaDevice>> listed) {
    Desired d = run.desired();
    // Two bindings naming the same Vault key must not interleave between reading the key and
    // enabling the device whose seed it holds (I1). One enrolment per key at a time, per stripe.
    synchronized (KEY_LOCKS[Math.floorMod((d.mount() + "/" + d.keyName()).hashCode(), 64)]) {
      ensureLocked(run, user, listed);
    }
    return nextRotation(run);
  }

  /** Forgets what was read of a binding's devices (the binding is gone). */
  void forget(String bindingUid) {
    known.remove(bindingUid);
  }

  private void ensureLocked(Run run, IamUser user, Optional<List<MfaDevice>> listed) {
    Desired d = run.desired();
    Observed seen;
    Optional<TotpKey> key;
    try {
      seen = observe(run, user.name(), listed);
      key = vault.readKey(d.mount(), d.keyName());
    } catch (OutsideCallException e) {
      throw StepFailure.of(ConditionType.DeviceEnrolled, e);
    }
    String account = accountName(run, user);
    boolean keyIsOurs = key.isPresent() && key.get().accountName().equals(account);
    String recorded = run.status().getSerialNumber();
    if (keyIsOurs && !seen.ours().isEmpty()) {
      try {
        MfaDevice current =
            seen.ours().size() == 1 ? seen.ours().get(0) : converge(run, user, seen);
        settle(run, user, current, seen);
      } catch (OutsideCallException e) {
        throw StepFailure.of(ConditionType.DeviceEnrolled, e);
      }
      return;
    }
    // Re-enrolment keeps the name (and so the serial number) the binding had, when it had one.
    String name =
        recorded != null
                && DeviceNames.generation(recorded, d.devicePath(), d.deviceName()).isPresent()
            ? DeviceNames.nameOf(recorded)
            : d.deviceName();
    String drift = null;
    if (!seen.ours().isEmpty()) {
      // The key is gone, or now holds another account's seed: nobody can produce these devices'
      // codes. Remove the useless devices (I1), then enrol again below.
      String what = key.isPresent() ? "held another account's seed" : "was missing";
      for (MfaDevice m : seen.ours()) {
        try {
          run.iam().deactivateDevice(user.name(), m.serialNumber());
          run.iam().deleteVirtualDevice(m.serialNumber());
        } catch (OutsideCallException e) {
          throw StepFailure.of(ConditionType.DeviceEnrolled, e);
        }
        run.metrics().driftRepaired(BindingMetrics.DriftKind.VAULT_KEY);
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
                    + m.serialNumber()
                    + ", whose codes nobody could produce");
      }
      run.status().setSerialNumber(null);
    } else if (recorded != null) {
      drift =
          "MFA device "
              + recorded
              + " was no longer enabled on IAM user "
              + user.name()
              + " (deactivated or deleted outside the operator)";
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
    String serial = enrol(run, user, name);
    if (drift != null) {
      run.metrics().driftRepaired(BindingMetrics.DriftKind.DEVICE);
      run.events()
          .normal(
              run.binding(),
              EventReason.DriftRepaired,
              drift + "; enrolled " + serial + " and wrote its seed to " + d.codePath());
    }
  }

  /**
   * Finds the enabled devices of this binding by their ownership tags. A serial number alone proves
   * nothing: it is path and name, and comes back when a person re-creates a device of the same
   * name; but such a device has a new enable date, so a device seen before with the same serial
   * number and enable date is not asked for its tags again. A device of one of this binding's names
   * that carries someone else's tags is a conflict when the binding has no device of its own.
   */
  private Observed observe(Run run, String user, Optional<List<MfaDevice>> listed) {
    Desired d = run.desired();
    List<MfaDevice> enabled = listed.isPresent() ? listed.get() : run.iam().enabledDevices(user);
    String uid = d.ownership().bindingUid();
    Map<String, Known> before = known.getOrDefault(uid, Map.of());
    Map<String, Known> now = new HashMap<>();
    List<MfaDevice> ours = new ArrayList<>();
    Map<String, Map<String, String>> tagsOf = new HashMap<>();
    boolean others = false;
    MfaDevice foreign = null;
    Map<String, String> foreignTags = Map.of();
    for (MfaDevice m : enabled) {
      if (!m.isVirtual()) {
        continue;
      }
      Known k = before.get(m.serialNumber());
      Map<String, String> tags =
          k != null && k.is(m) ? k.tags() : run.iam().deviceTags(m.serialNumber());
      if (m.enabledAt() != null) {
        now.put(m.serialNumber(), new Known(m.enabledAt(), null, null, tags));
      }
      if (d.ownership().owns(tags)) {
        ours.add(m);
        tagsOf.put(m.serialNumber(), tags);
        continue;
      }
      others |= Ownership.managed(tags);
      if (foreign == null
          && DeviceNames.generation(m.serialNumber(), d.devicePath(), d.deviceName()).isPresent()) {
        foreign = m;
        foreignTags = tags;
      }
    }
    known.put(uid, new ConcurrentHashMap<>(now));
    if (ours.isEmpty() && foreign != null) {
      throw new StepFailure(
          ConditionType.DeviceEnrolled,
          Reason.Conflict,
          "MFA device "
              + foreign.serialNumber()
              + " is already enabled on IAM user "
              + user
              + (Ownership.managed(foreignTags)
                  ? " by another binding (" + foreignTags.get(Ownership.BINDING_TAG) + ")"
                  : " and was not created by this operator"));
    }
    return new Observed(ours, tagsOf, others);
  }

  /**
   * This binding's enabled devices with their tags, and whether another binding has one on the
   * user.
   */
  private record Observed(
      List<MfaDevice> ours, Map<String, Map<String, String>> tags, boolean otherBindingOnUser) {

    Map<String, String> tagsOf(MfaDevice m) {
      return tags.getOrDefault(m.serialNumber(), Map.of());
    }
  }

  /**
   * The binding's one enabled device, whose seed the Vault key holds: record it, tidy up after a
   * rotation an earlier run did not finish, and rotate when the spec asks for it.
   */
  private void settle(Run run, IamUser user, MfaDevice current, Observed seen) {
    String recorded = run.status().getSerialNumber();
    if (recorded != null && !recorded.equals(current.serialNumber())) {
      tidyAfterRotation(run, recorded);
      // The rotation's status was not written: the device's tag tells which token it was for.
      run.status().setRotationToken(null);
      if (current.enabledAt() != null) {
        run.status().setRotatedAt(current.enabledAt().truncatedTo(ChronoUnit.SECONDS).toString());
      }
    }
    recordEnrolled(run, current.serialNumber(), current.enabledAt());
    if (run.status().getRotatedAt() == null
        && current.enabledAt() != null
        && DeviceNames.generation(
                    current.serialNumber(), run.desired().devicePath(), run.desired().deviceName())
                .orElse(0)
            > 0) {
      // Status was lost: a rotated device was enabled when it was rotated.
      run.status().setRotatedAt(current.enabledAt().truncatedTo(ChronoUnit.SECONDS).toString());
    }
    Optional<String> why = rotationDue(run, current, seen.tagsOf(current));
    if (why.isPresent()) {
      rotate(run, user, List.of(current), why.get());
    }
  }

  /**
   * Why the device must be rotated now, if it must: the spec's token differs from the one the
   * device was made for, or the interval has passed since it was enabled.
   */
  private Optional<String> rotationDue(Run run, MfaDevice current, Map<String, String> tags) {
    Desired d = run.desired();
    var st = run.status();
    String token = d.rotationToken();
    if (st.getRotationToken() == null) {
      // Status was lost (or never held it): the device's tag says which token it was made for.
      // A device without the tag predates rotation; it counts as made for the current token.
      String tagged = tags.get(TOKEN_TAG);
      if (tagged == null || tagged.equals(tokenHash(token))) {
        st.setRotationToken(token);
      }
    }
    if (!token.isEmpty() && !token.equals(st.getRotationToken())) {
      return Optional.of("spec.rotation.token changed to \"" + token + "\"");
    }
    Optional<Instant> due = nextRotation(run);
    if (due.isPresent() && !Instant.now(clock).isBefore(due.get())) {
      return Optional.of(
          "spec.rotation.interval "
              + run.binding().getSpec().getRotation().getInterval()
              + " has passed since "
              + st.getEnabledAt());
    }
    return Optional.empty();
  }

  /** When the spec's interval next asks for a rotation: the enable date plus the interval. */
  private Optional<Instant> nextRotation(Run run) {
    String enabledAt = run.status().getEnabledAt();
    if (run.desired().rotationInterval().isEmpty() || enabledAt == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(enabledAt).plus(run.desired().rotationInterval().get()));
    } catch (DateTimeParseException e) {
      return Optional.of(Instant.now(clock));
    }
  }

  /**
   * Replaces {@code olds} (the enabled devices of this binding) by a new device, make-before-break
   * (I6): create it, hold its seed under the staging key, enable it, swap the Vault key to its
   * seed, then deactivate and delete the old devices and the staging key. Until the new device is
   * enabled a failure removes it again and the old one stays as it was; after that a failure leaves
   * both enabled, each with a Vault key holding its seed, and the next reconcile finishes or undoes
   * the rotation ({@link #converge}).
   */
  private MfaDevice rotate(Run run, IamUser user, List<MfaDevice> olds, String why) {
    Desired d = run.desired();
    Iam iam = run.iam();
    String staging = d.stagingKeyName();
    int gen =
        olds.stream()
                .mapToInt(
                    m ->
                        DeviceNames.generation(m.serialNumber(), d.devicePath(), d.deviceName())
                            .orElse(0))
                .max()
                .orElse(0)
            + 1;
    String name = DeviceNames.name(d.deviceName(), gen);
    String oldSerials = String.join(", ", olds.stream().map(MfaDevice::serialNumber).toList());
    LOG.info("rotating MFA device {} of IAM user {}: {}", oldSerials, user.name(), why);
    CreatedDevice created;
    Seed seed;
    boolean stagingWritten = false;
    try {
      Optional<TotpKey> s = vault.readKey(d.mount(), staging);
      if (s.isPresent() && !isOurStaging(run, s.get())) {
        throw new StepFailure(
            ConditionType.VaultKeyReady,
            Reason.Conflict,
            "Vault key "
                + d.mount()
                + "/keys/"
                + staging
                + " exists and does not belong to this binding; rotation holds the new seed there"
                + " while both devices are enabled");
      }
      created = createDevice(run, name);
      seed = created.seed();
      try {
        try {
          vault.writeKey(d.mount(), staging, seed, d.issuer(), created.serialNumber());
        } catch (OutsideCallException e) {
          stagingWritten = e.is(Outcome.RETRYABLE); // it may have taken effect: roll it back
          throw e;
        }
        stagingWritten = true;
        checkVaultHolds(run, staging, seed);
        Instant enabling = Instant.now(clock);
        enable(iam, user.name(), created.serialNumber(), seed);
        enabledHere(run, created.serialNumber(), enabling, deviceTags(d));
      } catch (OutcomeUnknown e) {
        throw e;
      } catch (RuntimeException e) {
        rollBack(run, created.serialNumber(), stagingWritten ? staging : null, true);
        throw e;
      }
    } catch (OutcomeUnknown e) {
      throw e;
    } catch (OutsideCallException e) {
      throw rotationFailed(run, StepFailure.of(ConditionType.DeviceEnrolled, e), oldSerials);
    } catch (StepFailure e) {
      throw rotationFailed(run, e, oldSerials);
    }
    // Both devices are enabled and the key still holds the old seed: a code read now is the old
    // device's. Swap the key, then the old devices may go.
    try {
      vault.writeKey(d.mount(), d.keyName(), seed, d.issuer(), accountName(run, user));
      checkVaultHolds(run, d.keyName(), seed);
      for (MfaDevice old : olds) {
        iam.deactivateDevice(user.name(), old.serialNumber());
        iam.deleteVirtualDevice(old.serialNumber());
      }
      vault.deleteKey(d.mount(), staging);
    } catch (OutsideCallException e) {
      throw rotationInterrupted(run, StepFailure.of(ConditionType.DeviceEnrolled, e), created);
    } catch (StepFailure e) {
      throw rotationInterrupted(run, e, created);
    }
    // From here on the seed is not used again; the reference goes out of scope with this frame.
    Instant now = Instant.now(clock).truncatedTo(ChronoUnit.SECONDS);
    var st = run.status();
    st.setRotatedAt(now.toString());
    st.setRotationToken(d.rotationToken());
    st.setEnabledAt(now.toString());
    recordEnrolled(run, created.serialNumber(), now);
    run.metrics().rotation(true);
    run.events()
        .normal(
            run.binding(),
            EventReason.Rotated,
            "Rotated ("
                + why
                + "): enabled MFA device "
                + created.serialNumber()
                + ", swapped Vault key "
                + d.mount()
                + "/keys/"
                + d.keyName()
                + " to its seed, then deactivated and deleted "
                + oldSerials);
    return new MfaDevice(created.serialNumber(), now);
  }

  private static StepFailure rotationFailed(Run run, StepFailure f, String olds) {
    run.metrics().rotation(false);
    return new StepFailure(
        ConditionType.Ready,
        f.reason(),
        "rotation did not finish: "
            + f.getMessage()
            + "; MFA device "
            + olds
            + " stays enabled and the Vault key still holds its seed; retrying",
        f);
  }

  private static StepFailure rotationInterrupted(Run run, StepFailure f, CreatedDevice created) {
    run.metrics().rotation(false);
    return new StepFailure(
        ConditionType.Ready,
        f.reason(),
        "rotation to MFA device "
            + created.serialNumber()
            + " was interrupted after enabling it: "
            + f.getMessage()
            + "; both devices stay enabled until it finishes",
        f);
  }

  /**
   * Two or more enabled devices of this binding: a rotation stopped after enabling its new device.
   * The staging key names that device and holds its seed; when the Vault key gives the same codes,
   * the swap was done and the old devices go, otherwise the new device goes. With no staging key to
   * compare (someone deleted it), a fresh device is enrolled alongside and the key swapped to it,
   * which leaves one device whose seed is known to be in Vault.
   */
  private MfaDevice converge(Run run, IamUser user, Observed seen) {
    Desired d = run.desired();
    String staging = d.stagingKeyName();
    List<MfaDevice> ours = new ArrayList<>(seen.ours());
    Optional<TotpKey> s = vault.readKey(d.mount(), staging);
    Optional<MfaDevice> held =
        s.flatMap(
            k -> ours.stream().filter(m -> m.serialNumber().equals(k.accountName())).findFirst());
    if (held.isPresent()) {
      MfaDevice h = held.get();
      ours.remove(h);
      if (sameSeed(run, d.keyName(), staging)) {
        for (MfaDevice old : ours) {
          run.iam().deactivateDevice(user.name(), old.serialNumber());
          run.iam().deleteVirtualDevice(old.serialNumber());
        }
        vault.deleteKey(d.mount(), staging);
        String tagged = seen.tagsOf(h).get(TOKEN_TAG);
        run.status()
            .setRotationToken(
                tagged != null && tagged.equals(tokenHash(d.rotationToken()))
                    ? d.rotationToken()
                    : null);
        run.status()
            .setRotatedAt(
                (h.enabledAt() == null ? Instant.now(clock) : h.enabledAt())
                    .truncatedTo(ChronoUnit.SECONDS)
                    .toString());
        String removed = String.join(", ", ours.stream().map(MfaDevice::serialNumber).toList());
        run.metrics().rotation(true);
        run.events()
            .normal(
                run.binding(),
                EventReason.Rotated,
                "Finished an interrupted rotation: Vault key "
                    + d.mount()
                    + "/keys/"
                    + d.keyName()
                    + " holds the seed of "
                    + h.serialNumber()
                    + "; deactivated and deleted "
                    + removed);
        run.status().setSerialNumber(h.serialNumber());
        run.status().setEnabledAt(null);
        return h;
      }
      run.iam().deactivateDevice(user.name(), h.serialNumber());
      run.iam().deleteVirtualDevice(h.serialNumber());
      vault.deleteKey(d.mount(), staging);
      run.events()
          .warning(
              run.binding(),
              EventReason.EnrolmentRolledBack,
              "A rotation stopped before the Vault key was swapped; deactivated and deleted its new"
                  + " MFA device "
                  + h.serialNumber());
      if (ours.size() == 1) {
        return ours.get(0);
      }
    }
    return rotate(
        run,
        user,
        ours,
        "MFA devices "
            + String.join(", ", ours.stream().map(MfaDevice::serialNumber).toList())
            + " of this binding are all enabled and nothing tells which one's seed Vault holds");
  }

  /**
   * Whether two Vault keys hold the same seed: their codes agree in two windows (two seeds share a
   * code in one window once in a million). A window edge between the reads shows as a change of the
   * first key's code, and the reads are made again.
   */
  private boolean sameSeed(Run run, String key, String other) {
    String mount = run.desired().mount();
    int agreed = 0;
    for (int reads = 0; reads < 6; reads++) {
      long start = clock.instant().getEpochSecond();
      String a = vault.code(mount, key);
      String b = vault.code(mount, other);
      if (!a.equals(vault.code(mount, key))) {
        continue;
      }
      if (!a.equals(b)) {
        return false;
      }
      if (++agreed == 2) {
        return true;
      }
      try {
        sleeper.sleepUntil(Instant.ofEpochSecond((start / PERIOD + 1) * PERIOD + 1));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    throw new StepFailure(
        ConditionType.VaultKeyReady,
        Reason.VaultUnavailable,
        "cannot compare the codes of Vault keys " + key + " and " + other + "; retrying");
  }

  /** A staging key names one of this binding's serial numbers as its account. */
  private boolean isOurStaging(Run run, TotpKey key) {
    Desired d = run.desired();
    String account = run.status().getAccountId();
    return key.accountName().startsWith("arn:")
        && (account == null || key.accountName().contains(":" + account + ":mfa/"))
        && DeviceNames.generation(key.accountName(), d.devicePath(), d.deviceName()).isPresent();
  }

  /**
   * The enabled device is not the one status recorded: an earlier run rotated and stopped after
   * deactivating the old device. Deletes that device if it is still there and ours, and the staging
   * key.
   */
  private void tidyAfterRotation(Run run, String recorded) {
    Desired d = run.desired();
    if (DeviceNames.generation(recorded, d.devicePath(), d.deviceName()).isEmpty()) {
      return;
    }
    if (d.ownership().owns(run.iam().deviceTags(recorded))) {
      try {
        run.iam().deleteVirtualDevice(recorded);
        LOG.info("deleted MFA device {} left by an interrupted rotation", recorded);
      } catch (OutsideCallException e) {
        LOG.warn("cannot delete MFA device {}: {}", recorded, e.getMessage());
      }
    }
    Optional<TotpKey> s = vault.readKey(d.mount(), d.stagingKeyName());
    if (s.isPresent() && isOurStaging(run, s.get())) {
      vault.deleteKey(d.mount(), d.stagingKeyName());
    }
  }

  /** Enrols a new device under {@code name}; returns its serial number. */
  private String enrol(Run run, IamUser user, String name) {
    Desired d = run.desired();
    Iam iam = run.iam();
    CreatedDevice device = createDevice(run, name);
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
      checkVaultHolds(run, d.keyName(), seed);
      Instant enabling = Instant.now(clock);
      enableCodes.enable(run, user.name(), device.serialNumber(), seed);
      enabledHere(run, device.serialNumber(), enabling, deviceTags(d));
    } catch (OutcomeUnknown e) {
      throw e;
    } catch (RuntimeException e) {
      rollBack(run, device.serialNumber(), keyWritten ? d.keyName() : null, false);
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
    run.events()
        .normal(
            run.binding(),
            EventReason.DeviceEnrolled,
            "Enabled MFA device " + device.serialNumber() + "; codes at " + d.codePath());
    run.status().setEnabledAt(now.toString());
    run.status().setRotationToken(d.rotationToken());
    recordEnrolled(run, device.serialNumber(), now);
    return device.serialNumber();
  }

  /**
   * Creates the device, tagged with the binding's ownership and the rotation token it is made for.
   * When IAM says the name is taken, a leftover unassigned device of this binding (from a crash
   * before enabling, I3) is deleted and the create tried once more.
   */
  private CreatedDevice createDevice(Run run, String name) {
    Desired d = run.desired();
    Iam iam = run.iam();
    Map<String, String> tags = deviceTags(d);
    try {
      try {
        return iam.createVirtualDevice(name, d.devicePath(), tags);
      } catch (OutsideCallException e) {
        if (!e.hasCode("EntityAlreadyExists")) {
          throw e;
        }
      }
      boolean removed = false;
      for (String serial : iam.unassignedDevices(d.devicePath(), name)) {
        if (d.ownership().owns(iam.deviceTags(serial))) {
          iam.deleteVirtualDevice(serial);
          removed = true;
          run.events()
              .normal(
                  run.binding(),
                  EventReason.LeftoverDeviceRemoved,
                  "Deleted this binding's unassigned MFA device "
                      + serial
                      + " (deactivated outside the operator, or left by an interrupted"
                      + " enrolment) to enrol again");
        }
      }
      if (!removed) {
        throw new StepFailure(
            ConditionType.DeviceEnrolled,
            Reason.Conflict,
            "a virtual MFA device named "
                + d.devicePath()
                + name
                + " already exists and does not belong to this binding;"
                + (name.equals(d.deviceName())
                    ? " set spec.mfaDevice.name to another name"
                    : " rotation needs that name; delete or rename that device"));
      }
      return iam.createVirtualDevice(name, d.devicePath(), tags);
    } catch (OutsideCallException e) {
      throw StepFailure.of(ConditionType.DeviceEnrolled, e);
    }
  }

  /** The tags a new device of this binding gets. */
  private static Map<String, String> deviceTags(Desired d) {
    Map<String, String> tags = new LinkedHashMap<>(d.ownership().tags());
    tags.put(TOKEN_TAG, tokenHash(d.rotationToken()));
    return tags;
  }

  /** SHA-256 of a rotation token, in hex: what the device's {@link #TOKEN_TAG} holds. */
  static String tokenHash(String token) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Vault must compute the same code as the seed IAM issued. Vault uses its own clock, so a read
   * that straddles a window edge is compared with both windows, and a mismatch is checked once more
   * before it counts.
   */
  private void checkVaultHolds(Run run, String keyName, Seed seed) {
    Desired d = run.desired();
    for (int attempt = 0; attempt < 2; attempt++) {
      long before = clock.instant().getEpochSecond();
      String code = vault.code(d.mount(), keyName);
      long after = clock.instant().getEpochSecond();
      if (code.equals(seed.codeAt(before)) || code.equals(seed.codeAt(after))) {
        return;
      }
    }
    throw new StepFailure(
        ConditionType.VaultKeyReady,
        Reason.CodeMismatch,
        "the code Vault computes at "
            + TotpEngine.codePath(d.mount(), keyName)
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

  /**
   * Undo an enrolment or a rotation that did not finish before its device was enabled: the Vault
   * key it wrote (the binding's key, or the staging key of a rotation) first, then the unassigned
   * device.
   */
  private void rollBack(Run run, String serial, String keyWritten, boolean rotation) {
    Desired d = run.desired();
    if (keyWritten != null) {
      try {
        vault.deleteKey(d.mount(), keyWritten);
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
            (rotation ? "Rotation to " : "Enrolment of ")
                + serial
                + " did not finish; the device"
                + (keyWritten == null
                    ? " was"
                    : " and the " + (rotation ? "staging " : "") + "Vault key were")
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
