package io.vaultmfa.operator.argocd;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.argocd.ArgoHealthCheck.Health;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.testing.FaultProxy;
import io.vaultmfa.operator.testing.WithOperator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The Argo CD health check on bindings as the operator leaves them: each test brings a binding into
 * one state (Ready, each failure reason it can reach here, no status yet, a spec change not yet
 * reconciled, being deleted), runs config/argocd/health-awsmfabinding.lua on the object in Lua 5.1
 * and checks what Argo CD would show. Each object is written to target/argocd-fixtures/, and with
 * {@code -Dargocd.fixtures=src/test/resources/argocd} also there, where {@link ArgoHealthCheckTest}
 * reads them without a running operator.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ArgoHealthIT extends WithOperator {

  private static final String NS = "argo";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static FaultProxy iam;

  @BeforeAll
  static void throughProxy() {
    iam = FaultProxy.inFrontOf(h.moto.endpoint().toString());
    h.stopOperator();
    h.startOperator(Map.of(), List.of(iam.awsRoute()));
  }

  @AfterEach
  void heal() {
    iam.heal();
  }

  @AfterAll
  static void closeProxy() {
    h.stopOperator();
    iam.close();
  }

  @Test
  void ready() throws Exception {
    h.apply(binding(NS, "ready", "argo-ready"));
    h.awaitReady(NS, "ready");

    assertHealth(
        "ready",
        "Healthy",
        "Ready: MFA device enabled and its seed held in Vault at totp/code/argo.ready");
  }

  @Test
  void invalidSpec() throws Exception {
    AwsMfaBinding b = binding(NS, "invalid-spec", "argo-invalid");
    b.getSpec().getIamUser().setManagedPolicyArns(List.of("not-an-arn"));
    h.apply(b);
    h.awaitCondition(NS, "invalid-spec", "Ready", "False", "InvalidSpec");

    assertHealth("invalid-spec", "Degraded", "InvalidSpec: spec.iamUser.managedPolicyArns");
  }

  @Test
  void userNotFound() throws Exception {
    AwsMfaBinding b = binding(NS, "user-not-found", "argo-nobody");
    b.getSpec().getIamUser().setCreate(false);
    h.apply(b);
    h.awaitCondition(NS, "user-not-found", "Ready", "False", "UserNotFound");

    assertHealth("user-not-found", "Degraded", "UserNotFound: ");
  }

  @Test
  void conflict() throws Exception {
    h.client
        .secrets()
        .inNamespace(NS)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("conflict-mfa")
                .withNamespace(NS)
                .endMetadata()
                .addToStringData("owner", "someone else")
                .build())
        .create();
    h.apply(binding(NS, "conflict", "argo-conflict"));
    h.awaitCondition(NS, "conflict", "Ready", "False", "Conflict");

    assertHealth("conflict", "Degraded", "Conflict: ");
  }

  @Test
  void vaultRejected() throws Exception {
    AwsMfaBinding b = binding(NS, "vault-rejected", "argo-nomount");
    b.getSpec().getVault().setMount("no-such-totp");
    h.apply(b);
    h.awaitCondition(NS, "vault-rejected", "Ready", "False", "VaultRejected");

    assertHealth("vault-rejected", "Degraded", "VaultRejected: ");
  }

  @Test
  void accessDenied() throws Exception {
    iam.inject(
        action("GetUser", "UserName=argo-denied")
            .willReturn(
                iamError(403, "AccessDenied", "User is not authorized to perform: iam:GetUser")));
    h.apply(binding(NS, "access-denied", "argo-denied"));
    h.awaitCondition(NS, "access-denied", "Ready", "False", "AccessDenied");

    assertHealth("access-denied", "Degraded", "AccessDenied: ");
  }

  @Test
  void throttled() throws Exception {
    iam.inject(
        action("GetUser", "UserName=argo-throttled")
            .willReturn(iamError(400, "Throttling", "Rate exceeded")));
    h.apply(binding(NS, "throttled", "argo-throttled"));
    h.awaitCondition(NS, "throttled", "Ready", "False", "Throttled");

    assertHealth("throttled", "Progressing", "Throttled: ");
  }

  @Test
  void awsError() throws Exception {
    iam.inject(
        action("GetUser", "UserName=argo-unreachable")
            .willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
    h.apply(binding(NS, "aws-error", "argo-unreachable"));
    h.awaitCondition(NS, "aws-error", "Ready", "False", "AwsError");

    assertHealth("aws-error", "Degraded", "AwsError: ");
  }

  @Test
  void limitExceeded() throws Exception {
    iam.inject(
        action("CreateVirtualMFADevice", "VirtualMFADeviceName=argo-quota")
            .willReturn(
                iamError(
                    409,
                    "LimitExceeded",
                    "Cannot exceed quota for VirtualMFADevicesPerAccount: 1000")));
    h.apply(binding(NS, "limit-exceeded", "argo-quota"));
    h.awaitCondition(NS, "limit-exceeded", "Ready", "False", "LimitExceeded");

    assertHealth("limit-exceeded", "Degraded", "LimitExceeded: ");
  }

  @Test
  void invalidCodes() throws Exception {
    iam.inject(
        action("EnableMFADevice", "UserName=argo-codes")
            .willReturn(
                iamError(
                    400,
                    "InvalidAuthenticationCode",
                    "Authentication code for device is not valid.")));
    h.apply(binding(NS, "invalid-codes", "argo-codes"));
    h.awaitCondition(NS, "invalid-codes", "Ready", "False", "InvalidCodes");

    assertHealth("invalid-codes", "Degraded", "InvalidCodes: ");
  }

  /** States reached with the operator stopped, or restarted with a Vault it cannot use. */
  @Test
  @Order(Integer.MAX_VALUE)
  void withoutAWorkingOperator() throws Exception {
    h.apply(binding(NS, "changed", "argo-changed"));
    h.awaitReady(NS, "changed");
    h.apply(binding(NS, "deleted", "argo-deleted"));
    h.awaitReady(NS, "deleted");
    h.stopOperator();

    h.apply(binding(NS, "no-status", "argo-no-status"));
    assertHealth(
        "no-status", "Progressing", "Waiting for the operator to report the binding's status");

    h.client
        .resources(AwsMfaBinding.class)
        .inNamespace(NS)
        .withName("changed")
        .edit(
            b -> {
              b.getSpec().setSecretName("changed-credentials");
              return b;
            });
    assertHealth(
        "generation-not-observed",
        "changed",
        "Progressing",
        "Waiting for the operator to reconcile generation 2 (last: Ready: ");

    h.delete(NS, "deleted");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> h.get(NS, "deleted").getMetadata().getDeletionTimestamp() != null);
    assertHealth("being-deleted", "deleted", "Progressing", "Being deleted: ");

    h.startOperator(Map.of(Setting.VAULT_TOKEN, "not-a-valid-token"), List.of(iam.awsRoute()));
    h.apply(binding(NS, "vault-denied", "argo-vault-denied"));
    h.awaitCondition(NS, "vault-denied", "Ready", "False", "VaultDenied");
    assertHealth("vault-denied", "Degraded", "VaultDenied: ");
    h.stopOperator();

    h.startOperator(
        Map.of(Setting.VAULT_ADDRESS, "http://127.0.0.1:" + closedPort()), List.of(iam.awsRoute()));
    h.apply(binding(NS, "vault-unavailable", "argo-vault-down"));
    h.awaitCondition(NS, "vault-unavailable", "Ready", "False", "VaultUnavailable");
    assertHealth("vault-unavailable", "Degraded", "VaultUnavailable: ");
    h.stopOperator();

    h.startOperator(Map.of(), List.of(iam.awsRoute()));
    h.awaitGone(NS, "deleted");
  }

  private static void assertHealth(String name, String status, String messageStart)
      throws Exception {
    assertHealth(name, name, status, messageStart);
  }

  /** Runs the health check on the live binding and keeps the object as fixture {@code fixture}. */
  private static void assertHealth(String fixture, String name, String status, String messageStart)
      throws Exception {
    JsonNode object = JSON.readTree(Serialization.asJson(h.get(NS, name)));
    keep(fixture, object);

    Health health = ArgoHealthCheck.of(object);

    assertThat(health.status()).as("Argo CD status of %s: %s", fixture, health).isEqualTo(status);
    assertThat(health.message()).as("Argo CD message of %s", fixture).startsWith(messageStart);
  }

  private static void keep(String fixture, JsonNode object) throws Exception {
    String json = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(object) + "\n";
    Path target = Path.of("target/argocd-fixtures", fixture + ".json");
    Files.createDirectories(target.getParent());
    Files.writeString(target, json);
    String update = System.getProperty("argocd.fixtures");
    if (update != null && !update.isBlank()) {
      Path dir = Path.of(update);
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(fixture + ".json"), json);
    }
  }

  /** The operator's IAM call {@code action} whose form body holds {@code parameter}. */
  private static MappingBuilder action(String action, String parameter) {
    return post(urlPathEqualTo("/"))
        .withRequestBody(containing("Action=" + action + "&"))
        .withRequestBody(containing(parameter));
  }

  /** IAM's error document, as real IAM sends it. */
  private static ResponseDefinitionBuilder iamError(int status, String code, String message) {
    return aResponse()
        .withStatus(status)
        .withHeader("Content-Type", "text/xml")
        .withBody(
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender"
                + "</Type><Code>"
                + code
                + "</Code><Message>"
                + message
                + "</Message></Error><RequestId>argo-fixture</RequestId></ErrorResponse>");
  }

  private static int closedPort() throws Exception {
    try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
