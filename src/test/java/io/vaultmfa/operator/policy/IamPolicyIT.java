package io.vaultmfa.operator.policy;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.AwsSpec;
import io.vaultmfa.operator.iam.Ownership;
import io.vaultmfa.operator.testing.IamPolicy;
import io.vaultmfa.operator.testing.OperatorHarness;
import io.vaultmfa.operator.testing.WithOperator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.iam.model.Tag;

/**
 * config/iam-policy.json is complete: the operator is driven through every path that calls IAM or
 * STS (create a user with a policy, detach it, a leftover device, adopt a user, a binding that
 * names a role, deletion), and every call it made, with the resource and tags it touched, is
 * allowed by the policy. The list of actions seen must cover every IAM operation the gateway
 * ({@code iam/Iam.java}) can call, so a new call without a test, or without a grant, fails here.
 * The list is written to target/it-logs/iam-actions.txt.
 */
class IamPolicyIT extends WithOperator {

  private static final String ROLE_PATH = "/vault-mfa-operator/";

  @BeforeAll
  static void driveEveryIamPath() {
    String policyArn = managedPolicy("pol-readonly");

    AwsMfaBinding created = binding("pol", "created", "pol-created");
    created.getSpec().getIamUser().setManagedPolicyArns(List.of(policyArn));
    h.apply(created);
    h.awaitReady("pol", "created");
    h.client
        .resources(AwsMfaBinding.class)
        .inNamespace("pol")
        .withName("created")
        .edit(
            b -> {
              b.getSpec().getIamUser().setManagedPolicyArns(List.of());
              return b;
            });
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                h.iam
                    .listAttachedUserPolicies(r -> r.userName("pol-created"))
                    .attachedPolicies()
                    .isEmpty());

    h.stopOperator();
    AwsMfaBinding leftover = h.apply(binding("pol", "leftover", "pol-leftover"));
    Ownership ours =
        new Ownership(OperatorHarness.CLUSTER_ID, leftover.getMetadata().getUid(), "pol/leftover");
    h.iam.createUser(r -> r.userName("pol-adopted"));
    String seed =
        h.iam
            .createVirtualMFADevice(
                r ->
                    r.virtualMFADeviceName("pol-leftover")
                        .path("/")
                        .tags(
                            ours.tags().entrySet().stream()
                                .map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build())
                                .toList()))
            .virtualMFADevice()
            .base32StringSeed()
            .asUtf8String();
    h.rememberSeed(seed);
    h.startOperator(Map.of());
    h.awaitReady("pol", "leftover");

    AwsMfaBinding adopted = binding("pol", "adopted", "pol-adopted");
    adopted.getSpec().getIamUser().setCreate(false);
    h.apply(adopted);
    h.awaitReady("pol", "adopted");

    String roleArn =
        h.iam
            .createRole(
                r ->
                    r.roleName("binding-account")
                        .path(ROLE_PATH)
                        .assumeRolePolicyDocument(
                            "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                                + "\"Principal\":{\"AWS\":\"*\"},\"Action\":\"sts:AssumeRole\"}]}"))
            .role()
            .arn();
    AwsMfaBinding withRole = binding("pol", "role", "pol-role");
    AwsSpec aws = new AwsSpec();
    aws.setRoleArn(roleArn);
    withRole.getSpec().setAws(aws);
    h.apply(withRole);
    h.awaitReady("pol", "role");

    for (String name : List.of("created", "leftover", "adopted", "role")) {
      h.delete("pol", name);
    }
    for (String name : List.of("created", "leftover", "adopted", "role")) {
      h.awaitGone("pol", name);
    }
  }

  @Test
  void everyCallTheOperatorMadeIsAllowedByThePolicy() throws Exception {
    IamPolicy policy = IamPolicy.read(OperatorHarness.IAM_POLICY);
    Map<String, Set<String>> grantedBy = new TreeMap<>();
    for (IamPolicy.Request r : h.iamAuthorizations.requests()) {
      grantedBy
          .computeIfAbsent(r.action(), k -> new TreeSet<>())
          .addAll(
              r.action().equals("sts:GetCallerIdentity")
                  ? List.of("(no permission needed)")
                  : policy.grantingStatements(r));
    }
    StringBuilder report = new StringBuilder();
    grantedBy.forEach((a, s) -> report.append(a).append(" <- ").append(s).append('\n'));
    Path out = Path.of("target/it-logs/iam-actions.txt");
    Files.createDirectories(out.getParent());
    Files.writeString(out, report);

    h.assertIamPolicyAllowsEveryCall();
    assertThat(grantedBy).as("actions the operator called").containsKey("sts:AssumeRole");
  }

  @Test
  void theRunCoveredEveryOperationTheIamGatewayCanCall() throws Exception {
    Set<String> seen = new TreeSet<>();
    h.iamAuthorizations.requests().forEach(r -> seen.add(r.action()));

    Set<String> callable = new TreeSet<>(gatewayOperations());
    callable.add("sts:AssumeRole"); // by the SDK's credentials provider for spec.aws.roleArn
    callable.add("iam:TagUser"); // tag-on-create of CreateUser
    callable.add("iam:TagMFADevice"); // tag-on-create of CreateVirtualMFADevice

    assertThat(callable).as("operations named in iam/Iam.java").hasSizeGreaterThan(12);
    assertThat(seen).as("actions authorized in this run").containsAll(callable);
  }

  @Test
  void motoAcceptsThePolicyDocument() throws Exception {
    String document = Files.readString(OperatorHarness.IAM_POLICY);

    var created =
        h.iam.createPolicy(r -> r.policyName("vault-mfa-operator").policyDocument(document));

    assertThat(created.policy().arn()).endsWith(":policy/vault-mfa-operator");
  }

  /**
   * {@code iam:X} for each {@code call("X", ...)} and {@code sts:X} for each {@code call("sts",
   * "X", ...)}.
   */
  static Set<String> gatewayOperations() throws Exception {
    String source = Files.readString(Path.of("src/main/java/io/vaultmfa/operator/iam/Iam.java"));
    Set<String> ops = new TreeSet<>();
    Matcher m = Pattern.compile("call\\(\\s*(?:\"(sts)\",\\s*)?\"([A-Z]\\w+)\"").matcher(source);
    while (m.find()) {
      ops.add((m.group(1) == null ? "iam" : m.group(1)) + ":" + m.group(2));
    }
    return ops;
  }

  private static String managedPolicy(String name) {
    return h.iam
        .createPolicy(
            r ->
                r.policyName(name)
                    .policyDocument(
                        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                            + "\"Action\":\"s3:ListBucket\",\"Resource\":\"*\"}]}"))
        .policy()
        .arn();
  }
}
