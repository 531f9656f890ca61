package io.vaultmfa.operator.reconciler;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Secret;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.MfaDeviceSpec;
import io.vaultmfa.operator.testing.WithOperator;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.iam.model.MFADevice;

/** A binding applied to a fresh account becomes Ready with a device whose seed Vault holds. */
class EnrolmentIT extends WithOperator {

  @Test
  void bindingBecomesReadyWithDeviceSeedInVault() {
    AwsMfaBinding b = binding("team-a", "ci-deployer", "ci-deployer");
    h.apply(b);

    AwsMfaBinding ready = h.awaitReady("team-a", "ci-deployer");

    var st = ready.getStatus();
    String account = st.getAccountId();
    assertThat(account).matches("\\d{12}");
    assertThat(st.getUserArn()).isEqualTo("arn:aws:iam::" + account + ":user/ci-deployer");
    assertThat(st.getSerialNumber()).isEqualTo("arn:aws:iam::" + account + ":mfa/ci-deployer");
    assertThat(st.getVaultCodePath()).isEqualTo("totp/code/team-a.ci-deployer");
    assertThat(st.getSecretName()).isEqualTo("ci-deployer-mfa");
    assertThat(st.getEnabledAt()).isNotNull();
    assertThat(st.getObservedGeneration()).isEqualTo(ready.getMetadata().getGeneration());
    assertThat(ready.getMetadata().getFinalizers()).contains("vaultmfa.io/finalizer");

    // Every condition True, with a reason from the documented set and the generation.
    Map<String, String> reasons = new TreeMap<>();
    for (Condition c : st.getConditions()) {
      assertThat(c.getStatus()).as(c.getType()).isEqualTo("True");
      assertThat(c.getObservedGeneration()).isEqualTo(ready.getMetadata().getGeneration());
      assertThat(c.getLastTransitionTime()).isNotBlank();
      reasons.put(c.getType(), c.getReason());
    }
    assertThat(reasons)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "Ready",
                "Ready",
                "UserReady",
                "UserCreated",
                "DeviceEnrolled",
                "Enrolled",
                "VaultKeyReady",
                "KeyPresent",
                "SecretReady",
                "SecretWritten"));

    // IAM: the user has exactly one enabled device, the one in the status.
    List<MFADevice> devices = h.iam.listMFADevices(r -> r.userName("ci-deployer")).mfaDevices();
    assertThat(devices).extracting(MFADevice::serialNumber).containsExactly(st.getSerialNumber());

    // Vault: the key's parameters, and its code is the RFC 6238 code of the seed IAM issued.
    JsonNode key = h.vaultRead("totp/keys/team-a.ci-deployer").orElseThrow();
    assertThat(key.path("algorithm").asText()).isEqualTo("SHA1");
    assertThat(key.path("digits").asInt()).isEqualTo(6);
    assertThat(key.path("period").asInt()).isEqualTo(30);
    assertThat(key.path("issuer").asText()).isEqualTo("Amazon Web Services");
    assertThat(key.path("account_name").asText()).isEqualTo("ci-deployer@" + account);
    String seed = h.iamBoundary.seedOf(st.getSerialNumber());
    assertThat(seed).as("seed captured at the IAM boundary").isNotNull();
    h.assertVaultCodeIsCodeOf("totp", "team-a.ci-deployer", seed);

    // The Secret: exactly the five pointers, owned by the binding.
    Secret secret = h.secret("team-a", "ci-deployer-mfa");
    assertThat(decode(secret.getData()))
        .isEqualTo(
            Map.of(
                "VAULT_ADDR",
                h.bao.address(),
                "VAULT_TOTP_CODE_PATH",
                "totp/code/team-a.ci-deployer",
                "AWS_MFA_SERIAL_NUMBER",
                st.getSerialNumber(),
                "AWS_IAM_USER_NAME",
                "ci-deployer",
                "AWS_ACCOUNT_ID",
                account));
    assertThat(secret.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.getUid()).isEqualTo(ready.getMetadata().getUid());
              assertThat(o.getController()).isTrue();
            });
  }

  @Test
  void deviceNameAndPathGiveTheSerialIamReturns() {
    // Case K09: device svc-user-k8s at path /k8s/.
    AwsMfaBinding b = binding("team-b", "svc", "svc-user");
    MfaDeviceSpec d = new MfaDeviceSpec();
    d.setName("svc-user-k8s");
    d.setPath("/k8s/");
    b.getSpec().setMfaDevice(d);
    h.apply(b);

    AwsMfaBinding ready = h.awaitReady("team-b", "svc");

    String account = ready.getStatus().getAccountId();
    String serial = "arn:aws:iam::" + account + ":mfa/k8s/svc-user-k8s";
    assertThat(ready.getStatus().getSerialNumber()).isEqualTo(serial);
    assertThat(decode(h.secret("team-b", "svc-mfa").getData()))
        .containsEntry("AWS_MFA_SERIAL_NUMBER", serial);
  }

  static Map<String, String> decode(Map<String, String> data) {
    Map<String, String> m = new TreeMap<>();
    data.forEach(
        (k, v) -> m.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    return m;
  }
}
