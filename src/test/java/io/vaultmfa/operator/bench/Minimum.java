package io.vaultmfa.operator.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fewest calls per binding the lifecycle needs, in the columns of {@link Counts#COLUMNS}, and
 * why. The benchmark prints the measured counts against these.
 */
final class Minimum {

  private Minimum() {}

  /**
   * Create: GetUser (absent or adopted?); CreateUser, CreateVirtualMFADevice (tags go with both),
   * EnableMFADevice; STS's account id once per set of credentials, not per binding; Vault ReadKey
   * (never overwrite someone else's key, I4) and ReadCode (Vault holds the seed IAM issued, I1),
   * WriteKey; Kubernetes: the finalizer, the Secret and one status write (Events not counted).
   */
  static final long[] CREATE = {1, 3, 0, 2, 1, 3};

  /**
   * Resync of a Ready binding: ListMFADevices (is the recorded device still enabled, with the
   * recorded enable date?) and Vault ReadKey (does the key still hold this account's seed?); no
   * write (I5).
   */
  static final long[] RESYNC = {1, 0, 0, 1, 0, 0};

  /**
   * Delete: GetUser (its tags: did this binding create it?), ListMFADevices and ListMFADeviceTags
   * (only this binding's device, I4); DeactivateMFADevice, DeleteVirtualMFADevice, DeleteUser;
   * Vault ReadKey (still this account's key?) and DeleteKey; Kubernetes: removing the finalizer.
   */
  static final long[] DELETE = {3, 3, 0, 1, 1, 1};

  static Map<String, Object> json() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("columns", List.of(Counts.COLUMNS));
    m.put("create", CREATE);
    m.put("resync", RESYNC);
    m.put("delete", DELETE);
    return m;
  }
}
