package io.vaultmfa.operator.reconciler;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.testing.WithOperator;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.iam.model.AttachedPolicy;
import software.amazon.awssdk.services.iam.model.MFADevice;
import software.amazon.awssdk.services.iam.model.Tag;

/**
 * {@code spec.iamUser.create: false} adopts a user a person made, and never creates one; the listed
 * managed policies are attached, and detached again when removed from the list.
 */
class UserAdoptionIT extends WithOperator {

  @Test
  void missingUserWithCreateFalseWaitsAndCreatesNothing() {
    AwsMfaBinding b = binding("adopt-a", "missing", "adopt-missing");
    b.getSpec().getIamUser().setCreate(false);
    h.apply(b);

    Condition user = h.awaitCondition("adopt-a", "missing", "UserReady", "False", "UserNotFound");
    assertThat(user.getMessage()).contains("adopt-missing");
    assertThat(h.condition("adopt-a", "missing", "Ready"))
        .get()
        .extracting(Condition::getStatus)
        .isEqualTo("False");

    // Nothing outside the cluster: no user, no virtual device of that name, no Vault key.
    assertThat(h.userExists("adopt-missing")).as("IAM user adopt-missing exists").isFalse();
    assertThat(h.virtualDevicesNamed("/", "adopt-missing")).as("virtual MFA devices").isEmpty();
    assertThat(h.vaultRead("totp/keys/adopt-a.missing")).as("Vault key").isEmpty();
  }

  @Test
  void existingUserIsAdoptedAndKeptWhenTheBindingIsDeleted() {
    h.iam.createUser(
        r -> r.userName("adopt-existing").tags(Tag.builder().key("owner").value("alice").build()));
    AwsMfaBinding b = binding("adopt-b", "existing", "adopt-existing");
    b.getSpec().getIamUser().setCreate(false);
    h.apply(b);

    AwsMfaBinding ready = h.awaitReady("adopt-b", "existing");
    assertThat(h.condition("adopt-b", "existing", "UserReady"))
        .get()
        .extracting(Condition::getReason)
        .isEqualTo("UserAdopted");
    await().atMost(Duration.ofSeconds(10)).until(() -> !events("adopt-b", "UserAdopted").isEmpty());
    assertThat(events("adopt-b", "UserAdopted"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getType()).isEqualTo("Normal");
              assertThat(e.getMessage()).contains(":user/adopt-existing").contains("kept");
            });
    assertThat(events("adopt-b", "UserCreated")).isEmpty();
    String serial = ready.getStatus().getSerialNumber();
    assertThat(enabledSerials("adopt-existing")).containsExactly(serial);

    h.delete("adopt-b", "existing");
    h.awaitGone("adopt-b", "existing");

    assertThat(h.virtualDevicesNamed("/", "adopt-existing")).as("virtual MFA devices").isEmpty();
    assertThat(h.vaultRead("totp/keys/adopt-b.existing")).as("Vault key").isEmpty();
    assertThat(h.userExists("adopt-existing")).as("the adopted user is kept").isTrue();
    assertThat(userTags("adopt-existing"))
        .as("the person's own tags")
        .isEqualTo(Map.of("owner", "alice"));
  }

  @Test
  void listedPolicyIsAttachedAndDetachedWhenRemovedFromTheSpec() {
    String arn =
        h.iam
            .createPolicy(
                r ->
                    r.policyName("adopt-readonly")
                        .policyDocument(
                            "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                                + "\"Action\":\"iam:GetUser\",\"Resource\":\"*\"}]}"))
            .policy()
            .arn();
    AwsMfaBinding b = binding("adopt-c", "policies", "adopt-policies");
    b.getSpec().getIamUser().setManagedPolicyArns(List.of(arn));
    h.apply(b);

    h.awaitReady("adopt-c", "policies");
    assertThat(attachedPolicies("adopt-policies")).as("attached after apply").containsExactly(arn);

    h.client
        .resources(AwsMfaBinding.class)
        .inNamespace("adopt-c")
        .withName("policies")
        .edit(
            x -> {
              x.getSpec().getIamUser().setManagedPolicyArns(List.of());
              return x;
            });

    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () ->
                assertThat(attachedPolicies("adopt-policies"))
                    .as("attached after the ARN was removed from the spec")
                    .isEmpty());
  }

  // ---- IAM as a person sees it

  static Map<String, String> userTags(String name) {
    return h.iam.listUserTags(r -> r.userName(name)).tags().stream()
        .collect(Collectors.toMap(Tag::key, Tag::value));
  }

  static List<String> enabledSerials(String user) {
    return h.iam.listMFADevices(r -> r.userName(user)).mfaDevices().stream()
        .map(MFADevice::serialNumber)
        .toList();
  }

  static List<String> attachedPolicies(String user) {
    return h.iam.listAttachedUserPolicies(r -> r.userName(user)).attachedPolicies().stream()
        .map(AttachedPolicy::policyArn)
        .toList();
  }

  private static List<Event> events(String ns, String reason) {
    return h.events(ns).stream().filter(e -> reason.equals(e.getReason())).toList();
  }
}
