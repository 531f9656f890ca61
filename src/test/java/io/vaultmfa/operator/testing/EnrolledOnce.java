package io.vaultmfa.operator.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Timer;
import io.vaultmfa.operator.metrics.OutsideCalls;
import java.util.Map;
import java.util.TreeMap;
import software.amazon.awssdk.services.iam.model.MFADevice;

/**
 * The state a binding must reach after any fault clears: exactly one enabled device of its name on
 * the user, no unassigned device of that name left over, and a Vault key that produces the codes of
 * that device's seed (invariants I1 and I3).
 */
public final class EnrolledOnce {

  private EnrolledOnce() {}

  public static void assertEnrolledOnce(OperatorHarness h, String user, String key, String serial) {
    assertThat(h.iam.listMFADevices(r -> r.userName(user)).mfaDevices())
        .as("MFA devices enabled on %s", user)
        .extracting(MFADevice::serialNumber)
        .containsExactly(serial);
    assertThat(h.virtualDevicesNamed("/", user))
        .as("virtual MFA devices named %s, assigned or not", user)
        .containsExactly(serial);
    h.assertVaultCodeIsCodeOf(OpenBaoServer.TOTP_MOUNT, key, h.iamBoundary.seedOf(serial));
  }

  /** Calls the operator made so far, by {@code system/operation}, all outcomes. */
  public static Map<String, Long> outsideCalls(OperatorHarness h) {
    Map<String, Long> m = new TreeMap<>();
    for (Timer t : h.meters.find(OutsideCalls.METRIC).timers()) {
      m.merge(
          t.getId().getTag("system") + "/" + t.getId().getTag("operation"), t.count(), Long::sum);
    }
    return m;
  }

  /** The calls made since {@code before}, as "total (operation count, ...)", for the test log. */
  public static String callsSince(OperatorHarness h, Map<String, Long> before) {
    Map<String, Long> d = new TreeMap<>();
    outsideCalls(h)
        .forEach(
            (k, v) -> {
              long n = v - before.getOrDefault(k, 0L);
              if (n > 0) {
                d.put(k, n);
              }
            });
    return d.values().stream().mapToLong(Long::longValue).sum() + " " + d;
  }
}
