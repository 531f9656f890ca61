package io.vaultmfa.operator.iam;

import io.vaultmfa.operator.metrics.OutsideCalls;
import io.vaultmfa.operator.outside.Outcome;
import io.vaultmfa.operator.outside.OutsideCallException;
import io.vaultmfa.operator.totp.Seed;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AssignmentStatusType;
import software.amazon.awssdk.services.iam.model.AttachedPolicy;
import software.amazon.awssdk.services.iam.model.CreateVirtualMfaDeviceResponse;
import software.amazon.awssdk.services.iam.model.Tag;
import software.amazon.awssdk.services.iam.model.User;
import software.amazon.awssdk.services.iam.model.VirtualMFADevice;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * IAM users and virtual MFA devices, in IAM's own words. Knows nothing of Kubernetes. Every call is
 * idempotent where IAM allows it; observing never changes anything, and "not there" is an empty
 * answer, not an error.
 */
public class Iam {

  static final String SYSTEM = "iam";

  private final IamClient iam;
  private final StsClient sts;
  private final OutsideCalls calls;
  private volatile String accountId;

  public Iam(IamClient iam, StsClient sts, OutsideCalls calls) {
    this.iam = iam;
    this.sts = sts;
    this.calls = calls;
  }

  /** The account the credentials act in; asked of STS once and remembered. */
  public String accountId() {
    String id = accountId;
    if (id == null) {
      synchronized (this) {
        id = accountId;
        if (id == null) {
          id =
              call(
                  "sts",
                  "GetCallerIdentity",
                  "read the AWS account id",
                  () -> sts.getCallerIdentity().account());
          accountId = id;
        }
      }
    }
    return id;
  }

  public Optional<IamUser> findUser(String name) {
    try {
      User u =
          call("GetUser", "read IAM user " + name, () -> iam.getUser(r -> r.userName(name)).user());
      return Optional.of(new IamUser(u.userName(), u.arn(), tagMap(u.tags())));
    } catch (OutsideCallException e) {
      if (e.is(Outcome.NOT_FOUND)) {
        return Optional.empty();
      }
      throw e;
    }
  }

  public IamUser createUser(String name, String path, Map<String, String> tags) {
    User u =
        call(
            "CreateUser",
            "create IAM user " + name,
            () -> iam.createUser(r -> r.userName(name).path(path).tags(tags(tags))).user());
    return new IamUser(u.userName(), u.arn(), tagMap(u.tags()));
  }

  /** Deletes the user; a user already gone counts as deleted. */
  public void deleteUser(String name) {
    ignoreNotFound(
        () ->
            call(
                "DeleteUser",
                "delete IAM user " + name,
                () -> iam.deleteUser(r -> r.userName(name))));
  }

  public List<String> attachedPolicies(String user) {
    return call(
        "ListAttachedUserPolicies",
        "list policies of IAM user " + user,
        () ->
            iam.listAttachedUserPoliciesPaginator(r -> r.userName(user)).attachedPolicies().stream()
                .map(AttachedPolicy::policyArn)
                .toList());
  }

  public void attachPolicy(String user, String policyArn) {
    call(
        "AttachUserPolicy",
        "attach policy " + policyArn + " to IAM user " + user,
        () -> iam.attachUserPolicy(r -> r.userName(user).policyArn(policyArn)));
  }

  public void detachPolicy(String user, String policyArn) {
    ignoreNotFound(
        () ->
            call(
                "DetachUserPolicy",
                "detach policy " + policyArn + " from IAM user " + user,
                () -> iam.detachUserPolicy(r -> r.userName(user).policyArn(policyArn))));
  }

  /** The MFA devices enabled on the user; empty when the user does not exist. */
  public List<MfaDevice> enabledDevices(String user) {
    return devicesOf(user).orElse(List.of());
  }

  /**
   * The MFA devices enabled on the user, or empty when the user does not exist: IAM answers
   * NoSuchEntity for a missing user, so one call proves both.
   */
  public Optional<List<MfaDevice>> devicesOf(String user) {
    try {
      return Optional.of(
          call(
              "ListMFADevices",
              "list MFA devices of IAM user " + user,
              () ->
                  iam.listMFADevicesPaginator(r -> r.userName(user)).mfaDevices().stream()
                      .map(d -> new MfaDevice(d.serialNumber(), d.enableDate()))
                      .toList()));
    } catch (OutsideCallException e) {
      if (e.is(Outcome.NOT_FOUND)) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** The device's tags; empty when the device does not exist. */
  public Map<String, String> deviceTags(String serial) {
    try {
      return call(
          "ListMFADeviceTags",
          "read tags of MFA device " + serial,
          () -> tagMap(iam.listMFADeviceTags(r -> r.serialNumber(serial)).tags()));
    } catch (OutsideCallException e) {
      if (e.is(Outcome.NOT_FOUND)) {
        return Map.of();
      }
      throw e;
    }
  }

  /**
   * Virtual devices not assigned to any user whose serial ends in {@code mfa<path><name>}. Only
   * serial numbers are taken from the answer: the emulator also returns seeds here, real IAM does
   * not, and the operator must never depend on that.
   */
  public List<String> unassignedDevices(String path, String name) {
    String suffix = ":mfa" + path + name;
    return unassignedDevices(serial -> serial.endsWith(suffix));
  }

  /** Virtual devices not assigned to any user whose serial number passes the filter. */
  public List<String> unassignedDevices(java.util.function.Predicate<String> serialFilter) {
    return call(
        "ListVirtualMFADevices",
        "list unassigned virtual MFA devices",
        () -> {
          List<String> found = new ArrayList<>();
          for (VirtualMFADevice d :
              iam.listVirtualMFADevicesPaginator(
                      r -> r.assignmentStatus(AssignmentStatusType.UNASSIGNED))
                  .virtualMFADevices()) {
            if (serialFilter.test(d.serialNumber())) {
              found.add(d.serialNumber());
            }
          }
          return found;
        });
  }

  /** Creates the device. The seed in the answer is held in memory by the caller only. */
  public CreatedDevice createVirtualDevice(String name, String path, Map<String, String> tags) {
    CreateVirtualMfaDeviceResponse r =
        call(
            "CreateVirtualMFADevice",
            "create virtual MFA device " + path + name,
            () ->
                iam.createVirtualMFADevice(
                    b -> b.virtualMFADeviceName(name).path(path).tags(tags(tags))));
    VirtualMFADevice d = r.virtualMFADevice();
    return new CreatedDevice(
        d.serialNumber(), Seed.fromIamText(d.base32StringSeed().asUtf8String()));
  }

  public void enableDevice(String user, String serial, String code1, String code2) {
    call(
        "EnableMFADevice",
        "enable MFA device " + serial + " for IAM user " + user,
        () ->
            iam.enableMFADevice(
                r ->
                    r.userName(user)
                        .serialNumber(serial)
                        .authenticationCode1(code1)
                        .authenticationCode2(code2)));
  }

  /** Deactivates the device; one not assigned to the user, or gone, counts as done. */
  public void deactivateDevice(String user, String serial) {
    ignoreNotFound(
        () ->
            call(
                "DeactivateMFADevice",
                "deactivate MFA device " + serial + " of IAM user " + user,
                () -> iam.deactivateMFADevice(r -> r.userName(user).serialNumber(serial))));
  }

  public void deleteVirtualDevice(String serial) {
    ignoreNotFound(
        () ->
            call(
                "DeleteVirtualMFADevice",
                "delete virtual MFA device " + serial,
                () -> iam.deleteVirtualMFADevice(r -> r.serialNumber(serial))));
  }

  private <T> T call(String operation, String what, Supplier<T> fn) {
    return call(SYSTEM, operation, what, fn);
  }

  private <T> T call(String system, String operation, String what, Supplier<T> fn) {
    return calls.record(
        system,
        operation,
        () -> {
          try {
            return fn.get();
          } catch (SdkException e) {
            throw AwsErrors.classify(system, what, e);
          }
        });
  }

  private static void ignoreNotFound(Runnable r) {
    try {
      r.run();
    } catch (OutsideCallException e) {
      if (!e.is(Outcome.NOT_FOUND)) {
        throw e;
      }
    }
  }

  private static List<Tag> tags(Map<String, String> m) {
    return m.entrySet().stream()
        .map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build())
        .toList();
  }

  private static Map<String, String> tagMap(List<Tag> tags) {
    Map<String, String> m = new LinkedHashMap<>();
    if (tags != null) {
      tags.forEach(t -> m.put(t.key(), t.value()));
    }
    return m;
  }
}
