package io.vaultmfa.operator.reconciler;

import io.vaultmfa.operator.api.DeletionPolicy;
import io.vaultmfa.operator.iam.Iam;
import io.vaultmfa.operator.iam.IamUser;
import io.vaultmfa.operator.iam.MfaDevice;
import io.vaultmfa.operator.outside.OutsideCallException;
import io.vaultmfa.operator.vault.TotpEngine;
import io.vaultmfa.operator.vault.TotpKey;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step 8 of README (DESIGN.md step 7): undo what the binding made, in the order real IAM requires
 * (case K08): deactivate the device, delete it, delete the Vault key, detach the policies it
 * attached, delete the user if it created it. Each step treats "already gone" as done, so a crash
 * between steps converges on the next run. Only objects tagged with this binding's uid and cluster
 * id are touched (I4).
 */
final class Cleanup {

  private static final Logger LOG = LoggerFactory.getLogger(Cleanup.class);

  private final TotpEngine vault;

  Cleanup(TotpEngine vault) {
    this.vault = vault;
  }

  void run(Run run) {
    Desired d = enrolledNames(run);
    if (d.deletionPolicy() == DeletionPolicy.Retain) {
      LOG.info("{}: deletionPolicy Retain, leaving IAM and Vault as they are", run.ref());
      run.events()
          .normal(
              run.binding(),
              EventReason.Retained,
              "deletionPolicy is Retain: IAM user, MFA device and Vault key are kept");
      return;
    }
    Iam iam = run.iam();
    try {
      Optional<IamUser> user = iam.findUser(d.userName());
      Set<String> serials = ownedDevices(run, d, user.isPresent());
      for (String serial : serials) {
        if (user.isPresent()) {
          iam.deactivateDevice(d.userName(), serial);
        }
        iam.deleteVirtualDevice(serial);
        run.events()
            .normal(
                run.binding(),
                EventReason.DeviceDeleted,
                "Deactivated and deleted MFA device " + serial);
      }
      if (!serials.isEmpty() || run.status().getSerialNumber() != null) {
        // A binding that never had a device wrote no key (and Vault may refuse its mount).
        deleteKeyIfOurs(run, d);
        deleteStagingKey(run, d);
      }
      if (user.isPresent()) {
        cleanUpUser(run, d, user.get());
      }
      LOG.info("{}: cleaned up IAM and Vault", run.ref());
    } catch (OutsideCallException e) {
      run.events().warning(run.binding(), EventReason.CleanupFailed, e.getMessage());
      throw e;
    }
  }

  /**
   * Deletes the Vault key only while it still holds this binding's account name: another binding
   * may have taken the name over since, and its seed must stay (I1, I4).
   */
  private void deleteKeyIfOurs(Run run, Desired d) {
    String account = run.status().getAccountId();
    String expected = d.userName() + "@" + (account != null ? account : run.iam().accountId());
    Optional<TotpKey> key = vault.readKey(d.mount(), d.keyName());
    String path = d.mount() + "/keys/" + d.keyName();
    if (key.isEmpty()) {
      return;
    }
    if (!key.get().accountName().equals(expected)) {
      run.events()
          .normal(
              run.binding(),
              EventReason.VaultKeyKept,
              "Vault key " + path + " kept: it now holds " + key.get().accountName() + "'s seed");
      return;
    }
    vault.deleteKey(d.mount(), d.keyName());
    run.events().normal(run.binding(), EventReason.VaultKeyDeleted, "Deleted Vault key " + path);
  }

  /**
   * A rotation interrupted for good (the binding is deleted) may have left the new seed under the
   * staging key; it names one of this binding's serial numbers as its account.
   */
  private void deleteStagingKey(Run run, Desired d) {
    String staging = d.stagingKeyName();
    Optional<TotpKey> key = vault.readKey(d.mount(), staging);
    if (key.isPresent()
        && DeviceNames.generation(key.get().accountName(), d.devicePath(), d.deviceName())
            .isPresent()) {
      vault.deleteKey(d.mount(), staging);
      LOG.info("{}: deleted staging key {}", run.ref(), staging);
    }
  }

  /**
   * Detaches the policies this binding attached. A user this binding created is deleted, with every
   * managed policy detached first (status may have lost the list) — unless MFA devices of someone
   * else are still enabled on it, in which case it is kept (I4).
   */
  private void cleanUpUser(Run run, Desired d, IamUser user) {
    Iam iam = run.iam();
    boolean created = d.ownership().owns(user.tags());
    List<MfaDevice> remaining = created ? iam.enabledDevices(d.userName()) : List.of();
    if (!created || !remaining.isEmpty()) {
      List<String> attached = run.status().getAttachedPolicyArns();
      if (attached != null) {
        for (String arn : attached) {
          iam.detachPolicy(d.userName(), arn);
        }
      }
      if (created) {
        run.events()
            .normal(
                run.binding(),
                EventReason.UserKept,
                "IAM user "
                    + user.arn()
                    + " kept: MFA devices not created by this binding are still enabled on it ("
                    + remaining.stream().map(MfaDevice::serialNumber).toList()
                    + ")");
      }
      return;
    }
    for (String arn : iam.attachedPolicies(d.userName())) {
      iam.detachPolicy(d.userName(), arn);
    }
    iam.deleteUser(d.userName());
    run.events().normal(run.binding(), EventReason.UserDeleted, "Deleted IAM user " + user.arn());
  }

  /**
   * The names the binding was enrolled under, from its status where recorded: on an API server that
   * does not enforce the CRD's immutability rules the spec may name something else since.
   */
  private static Desired enrolledNames(Run run) {
    Desired d = run.desired();
    var st = run.status();
    String user = d.userName();
    if (st.getUserArn() != null && st.getUserArn().contains("/")) {
      user = st.getUserArn().substring(st.getUserArn().lastIndexOf('/') + 1);
    }
    String mount = d.mount();
    String key = d.keyName();
    if (st.getVaultCodePath() != null && st.getVaultCodePath().contains("/code/")) {
      int i = st.getVaultCodePath().lastIndexOf("/code/");
      mount = st.getVaultCodePath().substring(0, i);
      key = st.getVaultCodePath().substring(i + "/code/".length());
    }
    String deviceName = d.deviceName();
    String devicePath = d.devicePath();
    String serial = st.getSerialNumber();
    int mfa = serial == null ? -1 : serial.indexOf(":mfa/");
    if (mfa >= 0 && DeviceNames.generation(serial, devicePath, deviceName).isEmpty()) {
      // The spec names another device than the one enrolled (an API server without the CRD's
      // immutability rules): the enrolled name is the base of this binding's device names.
      String pathAndName = serial.substring(mfa + ":mfa".length());
      int slash = pathAndName.lastIndexOf('/');
      devicePath = pathAndName.substring(0, slash + 1);
      deviceName = pathAndName.substring(slash + 1);
    }
    return new Desired(
        user,
        d.createUser(),
        d.userPath(),
        d.policyArns(),
        d.userTags(),
        deviceName,
        devicePath,
        mount,
        key,
        d.issuer(),
        d.secretName(),
        d.deletionPolicy(),
        d.roleArn(),
        d.ownership(),
        d.rotationToken(),
        d.rotationInterval());
  }

  /**
   * This binding's devices: enabled on the user and tagged with its uid, and unassigned leftovers
   * of its names (each rotation's, see {@link DeviceNames}) and tags.
   */
  private Set<String> ownedDevices(Run run, Desired d, boolean userExists) {
    Iam iam = run.iam();
    Set<String> serials = new LinkedHashSet<>();
    if (userExists) {
      for (MfaDevice m : iam.enabledDevices(d.userName())) {
        // By tags only: a serial is path and name, and a person may have re-created it.
        if (m.isVirtual() && d.ownership().owns(iam.deviceTags(m.serialNumber()))) {
          serials.add(m.serialNumber());
        }
      }
    }
    for (String serial :
        iam.unassignedDevices(
            s -> DeviceNames.generation(s, d.devicePath(), d.deviceName()).isPresent())) {
      if (d.ownership().owns(iam.deviceTags(serial))) {
        serials.add(serial);
      }
    }
    return serials;
  }
}
