package io.vaultmfa.operator.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vaultmfa.operator.testing.IamPolicy;
import io.vaultmfa.operator.testing.IamPolicy.Request;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * config/iam-policy.json grants no more than the operator needs: what it creates must carry this
 * cluster's id, what it deletes must already carry it, roles come from one path, and nothing that
 * hands out credentials or rewrites policies is granted. ({@code IamPolicyIT} proves the other
 * direction: everything the operator calls is granted.)
 */
class IamPolicyTest {

  private static final Path FILE = Path.of("config/iam-policy.json");
  private static final IamPolicy POLICY = IamPolicy.read(FILE);
  private static final String USER = "arn:aws:iam::123456789012:user/ci";
  private static final String DEVICE = "arn:aws:iam::123456789012:mfa/ci";
  private static final String CLUSTER_TAG = "vaultmfa.io/cluster-id";

  @Test
  void createsUsersAndDevicesOnlyWithThisClustersTag() {
    assertThat(POLICY.allows(create("iam:CreateUser", USER, "prod"))).isTrue();
    assertThat(POLICY.allows(create("iam:TagUser", USER, "prod"))).isTrue();
    assertThat(POLICY.allows(create("iam:CreateVirtualMFADevice", DEVICE, "prod"))).isTrue();
    assertThat(POLICY.allows(create("iam:TagMFADevice", DEVICE, "prod"))).isTrue();

    assertThat(POLICY.allows(create("iam:CreateUser", USER, "staging"))).isFalse();
    assertThat(POLICY.allows(create("iam:TagUser", USER, null))).isFalse();
    assertThat(POLICY.allows(create("iam:CreateVirtualMFADevice", DEVICE, null))).isFalse();
    assertThat(POLICY.allows(create("iam:TagMFADevice", DEVICE, "staging"))).isFalse();
  }

  @Test
  void deletesOnlyUsersAndDevicesTaggedWithThisCluster() {
    assertThat(POLICY.allows(owned("iam:DeleteUser", USER, "prod"))).isTrue();
    assertThat(POLICY.allows(owned("iam:DeleteVirtualMFADevice", DEVICE, "prod"))).isTrue();

    assertThat(POLICY.allows(owned("iam:DeleteUser", USER, "staging"))).isFalse();
    assertThat(POLICY.allows(owned("iam:DeleteUser", USER, null))).isFalse();
    assertThat(POLICY.allows(owned("iam:DeleteVirtualMFADevice", DEVICE, "staging"))).isFalse();
    assertThat(POLICY.allows(owned("iam:DeleteVirtualMFADevice", DEVICE, null))).isFalse();
  }

  @Test
  void nothingIsGrantedToAnOperatorWithoutItsClusterTag() {
    Map<String, List<String>> untagged = new LinkedHashMap<>();
    untagged.put("aws:RequestTag/" + CLUSTER_TAG, List.of("prod"));
    untagged.put("aws:ResourceTag/" + CLUSTER_TAG, List.of("prod"));

    assertThat(POLICY.allows(new Request("iam:CreateUser", USER, untagged))).isFalse();
    assertThat(POLICY.allows(new Request("iam:DeleteUser", USER, untagged))).isFalse();
  }

  @Test
  void assumesOnlyRolesUnderItsPath() {
    assertThat(
            POLICY.allows(
                owned(
                    "sts:AssumeRole",
                    "arn:aws:iam::210987654321:role/vault-mfa-operator/team-a",
                    null)))
        .isTrue();
    assertThat(POLICY.allows(owned("sts:AssumeRole", "arn:aws:iam::210987654321:role/admin", null)))
        .isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "iam:CreateAccessKey",
        "iam:CreateLoginProfile",
        "iam:UpdateLoginProfile",
        "iam:PutUserPolicy",
        "iam:PutUserPermissionsBoundary",
        "iam:DeleteUserPermissionsBoundary",
        "iam:AddUserToGroup",
        "iam:UntagUser",
        "iam:UntagMFADevice",
        "iam:ResyncMFADevice",
        "iam:CreatePolicy",
        "iam:CreatePolicyVersion",
        "iam:AttachRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:PassRole",
        "sts:GetSessionToken"
      })
  void grantsNothingThatHandsOutCredentialsOrRewritesPermissions(String action) {
    for (String resource :
        List.of(USER, DEVICE, "arn:aws:iam::123456789012:role/vault-mfa-operator/x", "*")) {
      assertThat(POLICY.allows(owned(action, resource, "prod")))
          .as("%s on %s", action, resource)
          .isFalse();
    }
  }

  @Test
  void noStatementUsesAnActionWildcard() throws Exception {
    JsonNode doc = new ObjectMapper().readTree(FILE.toFile());
    for (JsonNode s : doc.path("Statement")) {
      assertThat(s.path("Effect").asText()).isEqualTo("Allow");
      assertThat(s.has("NotAction")).as("NotAction in %s", s.path("Sid")).isFalse();
      JsonNode actions = s.path("Action");
      (actions.isArray() ? actions : new ObjectMapper().createArrayNode().add(actions))
          .forEach(
              a -> assertThat(a.asText()).as("action of %s", s.path("Sid")).doesNotContain("*"));
    }
  }

  @Test
  void theCheckerMatchesWildcardsAndVariablesAsIamDoes() {
    Map<String, List<String>> ctx = Map.of("aws:PrincipalTag/team", List.of("a"));

    assertThat(POLICY.allows(new Request("IAM:getuser", USER, ctx)))
        .as("action names ignore case")
        .isTrue();
    assertThat(
            POLICY.allows(new Request("iam:GetUser", "arn:aws:iam::123456789012:user/a/b/c", ctx)))
        .as("* spans path segments")
        .isTrue();
    assertThat(POLICY.allows(new Request("iam:GetUser", "arn:aws:iam::123456789012:role/x", ctx)))
        .as("a role is not a user")
        .isFalse();
  }

  /** A create or tag call whose request carries {@code cluster} as its cluster id tag. */
  private static Request create(String action, String resource, String cluster) {
    Map<String, List<String>> ctx = principal();
    if (cluster != null) {
      ctx.put("aws:RequestTag/" + CLUSTER_TAG, List.of(cluster));
      ctx.put("aws:TagKeys", List.of(CLUSTER_TAG));
    }
    return new Request(action, resource, ctx);
  }

  /** A call on a resource that carries {@code cluster} as its cluster id tag. */
  private static Request owned(String action, String resource, String cluster) {
    Map<String, List<String>> ctx = principal();
    if (cluster != null) {
      ctx.put("aws:ResourceTag/" + CLUSTER_TAG, List.of(cluster));
    }
    return new Request(action, resource, ctx);
  }

  /** The operator's principal, tagged with its cluster id "prod". */
  private static Map<String, List<String>> principal() {
    Map<String, List<String>> ctx = new LinkedHashMap<>();
    ctx.put("aws:PrincipalTag/" + CLUSTER_TAG, List.of("prod"));
    return ctx;
  }
}
