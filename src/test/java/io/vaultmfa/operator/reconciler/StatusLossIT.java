package io.vaultmfa.operator.reconciler;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.AwsMfaBindingStatus;
import io.vaultmfa.operator.testing.WithOperator;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 4 part 8: the status of Ready bindings is wiped while the operator is stopped (a restore
 * from a backup without status, a migration). On start the same user ARN and device serial number
 * come back from what IAM and Vault hold, with no write to IAM or Vault and no new device: a
 * created user, an adopted user, and a rotated device whose token is read back from its tag (so it
 * is not rotated again).
 */
class StatusLossIT extends WithOperator {

  static final List<String> NAMES = List.of("created", "adopted", "rotated");

  @Test
  void wipedStatusComesBackFromIamAndVaultWithoutWrites() {
    h.apply(binding("loss", "created", "loss-created"));
    h.iam.createUser(r -> r.userName("loss-adopted"));
    AwsMfaBinding adopted = binding("loss", "adopted", "loss-adopted");
    adopted.getSpec().getIamUser().setCreate(false);
    h.apply(adopted);
    AwsMfaBinding rotated = binding("loss", "rotated", "loss-rotated");
    rotated.getSpec().setRotation(RotationIT.rotation("a", "2160h"));
    h.apply(rotated);
    for (String n : NAMES) {
      h.awaitReady("loss", n);
    }
    String firstSerial = h.get("loss", "rotated").getStatus().getSerialNumber();
    RotationIT.edit("loss", "rotated", x -> x.getSpec().getRotation().setToken("b"));
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> !firstSerial.equals(h.get("loss", "rotated").getStatus().getSerialNumber()));
    Map<String, AwsMfaBindingStatus> before = new LinkedHashMap<>();
    Map<String, String> secretVersions = new LinkedHashMap<>();
    for (String n : NAMES) {
      before.put(n, h.awaitReady("loss", n).getStatus());
      secretVersions.put(n, h.secret("loss", n + "-mfa").getMetadata().getResourceVersion());
    }

    h.stopOperator();
    for (String n : NAMES) {
      AwsMfaBinding b = h.get("loss", n);
      b.setStatus(new AwsMfaBindingStatus());
      h.client.resources(AwsMfaBinding.class).inNamespace("loss").resource(b).updateStatus();
      assertThat(h.get("loss", n).getStatus().getSerialNumber()).as("wiped").isNull();
    }
    OutsideCallCounts start = OutsideCallCounts.of(h.meters);
    h.iamBoundary.clearCalls();
    h.startOperator(Map.of());

    for (String n : NAMES) {
      AwsMfaBinding b = h.awaitReady("loss", n);
      AwsMfaBindingStatus was = before.get(n);
      assertThat(b.getStatus().getUserArn()).as("%s: user ARN", n).isEqualTo(was.getUserArn());
      assertThat(b.getStatus().getSerialNumber())
          .as("%s: serial number", n)
          .isEqualTo(was.getSerialNumber());
      assertThat(b.getStatus().getVaultCodePath()).isEqualTo(was.getVaultCodePath());
      assertThat(b.getStatus().getAccountId()).isEqualTo(was.getAccountId());
      assertThat(b.getStatus().getEnabledAt()).as("%s: enabledAt", n).isNotNull();
      assertThat(h.secret("loss", n + "-mfa").getMetadata().getResourceVersion())
          .as("%s: Secret not written", n)
          .isEqualTo(secretVersions.get(n));
    }
    OutsideCallCounts calls = OutsideCallCounts.of(h.meters).since(start);
    System.out.println("outside calls to recover 3 bindings after status loss: " + calls);
    assertThat(calls.writes()).as("writes to IAM, STS or Vault: %s", calls).isEmpty();
    assertThat(h.iamBoundary.writes()).as("IAM calls %s", h.iamBoundary.calls()).isZero();
    assertThat(h.condition("loss", "adopted", "UserReady").orElseThrow().getReason())
        .isEqualTo("UserAdopted");
    assertThat(h.condition("loss", "created", "UserReady").orElseThrow().getReason())
        .isEqualTo("UserCreated");
    AwsMfaBindingStatus r = h.get("loss", "rotated").getStatus();
    assertThat(r.getRotationToken()).as("token read back from the device's tag").isEqualTo("b");
    assertThat(r.getRotatedAt()).as("rotatedAt read back from the enable date").isNotNull();
  }
}
