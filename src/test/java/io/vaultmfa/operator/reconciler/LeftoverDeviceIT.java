package io.vaultmfa.operator.reconciler;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.iam.Ownership;
import io.vaultmfa.operator.testing.OperatorHarness;
import io.vaultmfa.operator.testing.WithOperator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.iam.model.AssignmentStatusType;
import software.amazon.awssdk.services.iam.model.MFADevice;
import software.amazon.awssdk.services.iam.model.Tag;
import software.amazon.awssdk.services.iam.model.VirtualMFADevice;

/**
 * Case K07 at the operator level: the operator was killed after CreateVirtualMFADevice and before
 * the Vault write. On restart the leftover unassigned device of this binding is deleted and
 * enrolment starts again, so exactly one device exists and Vault holds ITS seed. A device of the
 * same name that is not this binding's is a conflict, and is left alone.
 *
 * <p>Ownership is read from MFA device tags; moto 5.2.5 drops them, so these tests rely on the
 * harness' moto launcher ({@code scripts/moto_server.py}) that keeps them.
 */
class LeftoverDeviceIT extends WithOperator {

  @Test
  void leftoverDeviceOfThisBindingIsReplacedAndVaultHoldsTheNewSeed() {
    h.stopOperator();
    AwsMfaBinding created = h.apply(binding("left-a", "k07", "left-k07"));
    Ownership ours =
        new Ownership(OperatorHarness.CLUSTER_ID, created.getMetadata().getUid(), "left-a/k07");
    String leftoverSeed = createDevice("left-k07", ours.tags());
    h.startOperator(Map.of());

    AwsMfaBinding ready = h.awaitReady("left-a", "k07");

    String serial = ready.getStatus().getSerialNumber();
    assertThat(h.virtualDevicesNamed("/", "left-k07"))
        .as("virtual MFA devices named left-k07")
        .containsExactly(serial);
    assertThat(h.iam.listMFADevices(r -> r.userName("left-k07")).mfaDevices())
        .as("devices enabled on left-k07")
        .extracting(MFADevice::serialNumber)
        .containsExactly(serial);
    String seed = h.iamBoundary.seedOf(serial);
    assertThat(seed).as("seed the operator got from CreateVirtualMFADevice").isNotNull();
    assertThat(seed.equals(leftoverSeed)).as("Vault's seed is the leftover's").isFalse();
    h.assertVaultCodeIsCodeOf("totp", "left-a.k07", seed);
  }

  @Test
  void unassignedDeviceOfTheSameNameNotOursIsAConflictAndLeftAlone() {
    h.stopOperator();
    h.apply(binding("left-b", "foreign", "left-foreign"));
    createDevice("left-foreign", Map.of("owner", "bob"));
    String serial = h.virtualDevicesNamed("/", "left-foreign").get(0);
    h.iamBoundary.clearCalls();
    h.startOperator(Map.of());

    Condition c = h.awaitCondition("left-b", "foreign", "DeviceEnrolled", "False", "Conflict");

    assertThat(c.getMessage()).as("DeviceEnrolled message").contains("left-foreign");
    assertThat(unassignedSerials()).as("unassigned virtual MFA devices").contains(serial);
    assertThat(tagsOf(serial)).as("tags of the foreign device").isEqualTo(Map.of("owner", "bob"));
    assertThat(
            List.of(
                "DeleteVirtualMfaDevice",
                "EnableMfaDevice",
                "DeactivateMfaDevice",
                "TagMfaDevice",
                "UntagMfaDevice"))
        .as("calls that would change a device, in %s", h.iamBoundary.calls())
        .allMatch(op -> h.iamBoundary.count(op) == 0);
    assertThat(h.vaultRead("totp/keys/left-b.foreign")).as("Vault key left-b.foreign").isEmpty();
  }

  // ---- helpers

  /** Creates an unassigned device as a person (or a killed operator) would; returns its seed. */
  static String createDevice(String name, Map<String, String> tags) {
    String seed =
        h.iam
            .createVirtualMFADevice(
                r ->
                    r.virtualMFADeviceName(name)
                        .path("/")
                        .tags(
                            tags.entrySet().stream()
                                .map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build())
                                .toList()))
            .virtualMFADevice()
            .base32StringSeed()
            .asUtf8String();
    h.rememberSeed(seed);
    return seed;
  }

  static Map<String, String> tagsOf(String serial) {
    return h.iam.listMFADeviceTags(r -> r.serialNumber(serial)).tags().stream()
        .collect(Collectors.toMap(Tag::key, Tag::value));
  }

  static List<String> unassignedSerials() {
    return h
        .iam
        .listVirtualMFADevicesPaginator(r -> r.assignmentStatus(AssignmentStatusType.UNASSIGNED))
        .virtualMFADevices()
        .stream()
        .map(VirtualMFADevice::serialNumber)
        .toList();
  }
}
