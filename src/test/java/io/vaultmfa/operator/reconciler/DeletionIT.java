package io.vaultmfa.operator.reconciler;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;

import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.DeletionPolicy;
import io.vaultmfa.operator.metrics.OutsideCalls;
import io.vaultmfa.operator.testing.WithOperator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.iam.model.MFADevice;

/**
 * Deleting a binding: with {@code Delete} the device, the Vault key and the user the operator
 * created are gone, in the order real IAM requires (case K08); with {@code Retain} IAM and Vault
 * are left exactly as they were and the codes keep working.
 */
class DeletionIT extends WithOperator {

  static final Timeline timeline = new Timeline();

  @BeforeAll
  static void prepare() {
    // Same operator, plus an interceptor that notes where Vault key deletions fall between
    // IAM calls (SeedCapture records IAM calls only).
    h.stopOperator();
    h.startOperator(Map.of(), List.of(timeline));
  }

  @Test
  void deletePolicyRemovesDeviceVaultKeyAndCreatedUser() {
    h.apply(binding("del-a", "gone", "del-gone"));
    h.awaitReady("del-a", "gone");

    h.delete("del-a", "gone");
    h.awaitGone("del-a", "gone");

    assertThat(h.virtualDevicesNamed("/", "del-gone"))
        .as("virtual MFA devices named del-gone")
        .isEmpty();
    assertThat(h.vaultRead("totp/keys/del-a.gone")).as("Vault key del-a.gone").isEmpty();
    assertThat(h.userExists("del-gone")).as("IAM user del-gone exists").isFalse();
  }

  @Test
  void deleteOrderIsDeactivateDeleteDeviceVaultKeyThenUser() {
    h.apply(binding("del-b", "ordered", "del-ordered"));
    h.awaitReady("del-b", "ordered");
    h.iamBoundary.clearCalls();
    timeline.clear();

    h.delete("del-b", "ordered");
    h.awaitGone("del-b", "ordered");

    // Case K08: real IAM refuses to delete an assigned device or a user with MFA; moto does
    // not, so the order of the calls is what shows it.
    List<String> iam = h.iamBoundary.calls();
    int deactivate = iam.indexOf("DeactivateMfaDevice");
    int deleteDevice = iam.indexOf("DeleteVirtualMfaDevice");
    int deleteUser = iam.indexOf("DeleteUser");
    assertThat(List.of(deactivate, deleteDevice, deleteUser))
        .as("positions of DeactivateMfaDevice, DeleteVirtualMfaDevice, DeleteUser in %s", iam)
        .allMatch(i -> i >= 0)
        .isSorted();

    List<String> all = timeline.snapshot();
    int key = all.indexOf("vault:DeleteKey");
    assertThat(key)
        .as("Vault key deleted after the device and before the user: %s", all)
        .isGreaterThan(all.indexOf("DeleteVirtualMfaDevice"))
        .isLessThan(all.indexOf("DeleteUser"));
  }

  @Test
  void retainPolicyLeavesUserEnabledDeviceAndWorkingVaultKey() {
    AwsMfaBinding b = binding("del-c", "kept", "del-kept");
    b.getSpec().setDeletionPolicy(DeletionPolicy.Retain);
    h.apply(b);
    String serial = h.awaitReady("del-c", "kept").getStatus().getSerialNumber();
    String seed = h.iamBoundary.seedOf(serial);
    assertThat(seed).as("seed captured at the IAM boundary").isNotNull();

    h.delete("del-c", "kept");
    h.awaitGone("del-c", "kept");

    assertThat(h.userExists("del-kept")).as("IAM user del-kept exists").isTrue();
    assertThat(h.iam.listMFADevices(r -> r.userName("del-kept")).mfaDevices())
        .as("devices enabled on del-kept")
        .extracting(MFADevice::serialNumber)
        .containsExactly(serial);
    assertThat(h.vaultRead("totp/keys/del-c.kept")).as("Vault key del-c.kept").isPresent();
    h.assertVaultCodeIsCodeOf("totp", "del-c.kept", seed);
  }

  // ---- helpers

  /**
   * IAM calls in order, with {@code vault:DeleteKey} inserted before the first IAM call that starts
   * after a Vault key deletion finished (the meter is recorded when the call returns).
   */
  static final class Timeline implements ExecutionInterceptor {
    private final List<String> events = new ArrayList<>();
    private long deleteKeysSeen;

    @Override
    public synchronized void beforeExecution(
        Context.BeforeExecution context, ExecutionAttributes attributes) {
      flush();
      events.add(context.request().getClass().getSimpleName().replace("Request", ""));
    }

    synchronized void clear() {
      events.clear();
      deleteKeysSeen = deleteKeys();
    }

    synchronized List<String> snapshot() {
      flush();
      return List.copyOf(events);
    }

    private void flush() {
      for (long n = deleteKeys(); deleteKeysSeen < n; deleteKeysSeen++) {
        events.add("vault:DeleteKey");
      }
    }

    private static long deleteKeys() {
      return h == null ? 0 : new OutsideCalls(h.meters).count("vault", "DeleteKey");
    }
  }
}
