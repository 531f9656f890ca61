package io.vaultmfa.operator.e2e;

import static io.vaultmfa.operator.e2e.ClusterSetup.OPERATOR_NAMESPACE;
import static io.vaultmfa.operator.e2e.ClusterSetup.OPERATOR_SA;
import static io.vaultmfa.operator.e2e.ClusterSetup.OPERATOR_USER;
import static io.vaultmfa.operator.e2e.ClusterSetup.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vaultmfa.operator.Main;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.config.OperatorConfig;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.iam.IamProvider;
import io.vaultmfa.operator.testing.ClusterRecorder;
import io.vaultmfa.operator.testing.KubeControlPlane;
import io.vaultmfa.operator.testing.KubeControlPlane.Result;
import io.vaultmfa.operator.testing.LogCapture;
import io.vaultmfa.operator.testing.MotoServer;
import io.vaultmfa.operator.testing.OpenBaoServer;
import io.vaultmfa.operator.testing.SeedCapture;
import io.vaultmfa.operator.testing.SeedHygiene;
import io.vaultmfa.operator.testing.VaultHttp;
import io.vaultmfa.operator.totp.Totp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AssignmentStatusType;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;
import software.amazon.awssdk.services.iam.model.VirtualMFADevice;

/**
 * The operator as it runs in production, on a real kube-apiserver: authenticated only with a token
 * of the ServiceAccount from {@code deploy/} (so the ClusterRole must be enough), status and
 * finalizers written with server-side apply (the default), logging in to Vault (OpenBao) with
 * Vault's Kubernetes auth method, which checks that token with a TokenReview against this
 * apiserver. IAM is moto. The sample binding is applied and deleted with kubectl.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(SharedControlPlane.class)
class OperatorE2E {

  private static final String CLUSTER_ID = "e2e";
  private static final String NS = "default";
  private static final String BINDING = "aws";
  private static final String USER = "TOTP";
  private static final String KEY = "aws";

  private static KubeControlPlane cp;
  private static OpenBaoServer bao;
  private static MotoServer moto;
  private static IamClient iam;
  private static VaultHttp root;
  private static LogCapture logs;
  private static ClusterRecorder seen;
  private static final SeedCapture iamBoundary = new SeedCapture();
  private static KubernetesClient operatorClient;
  private static Operator operator;
  private static String operatorJwt;

  @BeforeAll
  static void startEverything() throws IOException {
    logs = LogCapture.install();
    cp = SharedControlPlane.get();
    seen = ClusterRecorder.start(cp.client());
    bao = OpenBaoServer.start();
    moto = MotoServer.start();
    root = new VaultHttp(bao.address(), bao.token());
    iam = moto.iamClient();

    operatorJwt = ClusterSetup.token(cp, OPERATOR_NAMESPACE, OPERATOR_SA);
    configureVaultKubernetesAuth();

    Path jwtFile = cp.dir().resolve("operator-sa.jwt");
    Files.writeString(jwtFile, operatorJwt);
    Files.setPosixFilePermissions(jwtFile, PosixFilePermissions.fromString("rw-------"));

    Path kubeconfig = cp.kubeconfigForToken("vault-mfa-operator", operatorJwt);
    assertThat(
            ok(
                cp.kubectl("--kubeconfig", kubeconfig.toString(), "auth", "whoami"),
                "kubectl auth whoami with the operator's kubeconfig"))
        .contains(OPERATOR_USER);
    Config config = Config.fromKubeconfig(kubeconfig.toFile());
    assertThat(config.getClientCertData()).as("no client certificate").isNull();
    assertThat(config.getClientCertFile()).as("no client certificate").isNull();
    assertThat(config.getUsername()).as("no basic auth").isNull();
    operatorClient = new KubernetesClientBuilder().withConfig(config).build();

    Map<Setting, String> s = new EnumMap<>(Setting.class);
    s.put(Setting.CLUSTER_ID, CLUSTER_ID);
    s.put(Setting.VAULT_ADDRESS, bao.address());
    s.put(Setting.VAULT_AUTH, "kubernetes");
    s.put(Setting.VAULT_K8S_JWT_FILE, jwtFile.toString());
    s.put(Setting.METRICS_PORT, "0");
    // kubernetes.serverSideApply is left at its default, true: the production setting.
    OperatorConfig operatorConfig = OperatorConfig.of(s);
    assertThat(operatorConfig.serverSideApply()).as("server-side apply by default").isTrue();
    IamProvider.Settings aws = moto.operatorSettings(List.of(iamBoundary));
    operator = Main.start(operatorConfig, operatorClient, new SimpleMeterRegistry(), aws);
  }

  /**
   * OpenBao's Kubernetes auth method against this apiserver (TokenReview by a ServiceAccount bound
   * to system:auth-delegator), the policy from config/vault-policy.hcl, and a role for the
   * operator's ServiceAccount.
   */
  private static void configureVaultKubernetesAuth() {
    ok(cp.kubectl("create", "namespace", "openbao"), "namespace openbao");
    ok(
        cp.kubectl("create", "serviceaccount", "token-reviewer", "-n", "openbao"),
        "token reviewer ServiceAccount");
    ok(
        cp.kubectl(
            "create",
            "clusterrolebinding",
            "openbao-token-reviewer",
            "--clusterrole=system:auth-delegator",
            "--serviceaccount=openbao:token-reviewer"),
        "token reviewer bound to system:auth-delegator");
    String reviewerJwt = ClusterSetup.token(cp, "openbao", "token-reviewer");

    root.write("sys/auth/kubernetes", Map.of("type", "kubernetes"));
    root.write(
        "auth/kubernetes/config",
        Map.of(
            "kubernetes_host",
            ClusterSetup.apiserverUrl(cp),
            "kubernetes_ca_cert",
            ClusterSetup.caPem(cp),
            "token_reviewer_jwt",
            reviewerJwt,
            "disable_local_ca_jwt",
            true));
    root.write(
        "sys/policies/acl/vault-mfa-operator",
        Map.of("policy", ClusterSetup.read(Path.of("config/vault-policy.hcl"))));
    root.write(
        "auth/kubernetes/role/vault-mfa-operator",
        Map.of(
            "bound_service_account_names", List.of(OPERATOR_SA),
            "bound_service_account_namespaces", List.of(OPERATOR_NAMESPACE),
            "token_policies", List.of("vault-mfa-operator"),
            "token_ttl", "1h"));
  }

  @AfterAll
  static void stopEverything() {
    try {
      if (operator != null) {
        operator.stop();
      }
      if (cp != null && logs != null) {
        assertNoSeedLeaked();
      }
    } finally {
      if (operatorClient != null) {
        operatorClient.close();
      }
      if (logs != null) {
        logs.uninstall();
      }
      if (seen != null) {
        seen.close();
      }
      if (iam != null) {
        iam.close();
      }
      if (moto != null) {
        moto.close();
      }
      if (bao != null) {
        bao.close();
      }
    }
  }

  private static void assertNoSeedLeaked() {
    List<String> seeds = iamBoundary.allSeeds();
    assertThat(seeds).as("seeds captured at the IAM boundary").isNotEmpty();
    SeedHygiene.assertNoSeed("the operator's logs", logs.all(), seeds);
    SeedHygiene.assertNoSeedInCluster(cp.client(), seeds);
    seen.assertNoSeed(seeds);
    SeedHygiene.assertNoSeedInControlPlaneLogs(cp, seeds);
  }

  private static AwsMfaBinding binding() {
    return cp.client().resources(AwsMfaBinding.class).inNamespace(NS).withName(BINDING).get();
  }

  @Test
  @Order(1)
  void sampleBecomesReadyThroughKubectl() {
    ok(
        cp.kubectl("apply", "-f", "config/samples/awsmfabinding.yaml"),
        "kubectl apply -f config/samples/awsmfabinding.yaml");
    Result waited =
        cp.kubectl(
            "wait", "--for=condition=Ready", "awsmfabinding/" + BINDING, "-n", NS, "--timeout=90s");
    assertThat(waited.exitCode())
        .as(
            "kubectl wait --for=condition=Ready: %s%nconditions: %s",
            waited,
            cp.kubectl("get", "awsmfabinding", BINDING, "-n", NS, "-o", "jsonpath={.status}"))
        .isZero();

    AwsMfaBinding b = binding();
    assertThat(b.getMetadata().getFinalizers()).containsExactly("vaultmfa.io/finalizer");
    var st = b.getStatus();
    assertThat(st.getSerialNumber()).matches("arn:aws:iam::\\d{12}:mfa/" + USER);
    assertThat(st.getVaultCodePath()).isEqualTo("totp/code/" + KEY);
    assertThat(st.getSecretName()).isEqualTo("aws-mfa");
    assertThat(st.getObservedGeneration()).isEqualTo(b.getMetadata().getGeneration());
    assertThat(st.getConditions())
        .allSatisfy(c -> assertThat(c.getStatus()).as(c.getType()).isEqualTo("True"))
        .extracting(c -> c.getType())
        .containsExactlyInAnyOrder(
            "Ready", "UserReady", "DeviceEnrolled", "VaultKeyReady", "SecretReady");

    // The status was written with server-side apply, by the operator's field manager.
    List<ManagedFieldsEntry> managed = b.getMetadata().getManagedFields();
    assertThat(managed)
        .as("managedFields: %s", Serialization.asJson(managed))
        .anySatisfy(
            m -> {
              assertThat(m.getOperation()).isEqualTo("Apply");
              assertThat(m.getSubresource()).isEqualTo("status");
            });
  }

  @Test
  @Order(2)
  void kubectlGetShowsThePrinterColumns() {
    String out = ok(cp.kubectl("get", "awsmfabindings", "-n", NS), "kubectl get awsmfabindings");
    List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
    assertThat(lines).as(out).hasSize(2);
    assertThat(lines.get(0).trim().split("\\s+"))
        .containsExactly("NAME", "AGE", "USER", "REASON", "READY", "SERIAL");
    String[] row = lines.get(1).trim().split("\\s+");
    assertThat(row).as(out).hasSize(6);
    assertThat(row[0]).isEqualTo(BINDING);
    assertThat(row[1]).matches("\\d+[smh].*");
    assertThat(row[2]).isEqualTo(USER);
    assertThat(row[3]).isEqualTo("Ready");
    assertThat(row[4]).isEqualTo("True");
    assertThat(row[5]).matches("arn:aws:iam::\\d{12}:mfa/" + USER);
  }

  @Test
  @Order(3)
  void readyBindingCausesNoWrite() throws InterruptedException {
    String before = binding().getMetadata().getResourceVersion();
    Thread.sleep(3000);
    assertThat(binding().getMetadata().getResourceVersion())
        .as("no status or finalizer write while nothing changes")
        .isEqualTo(before);
  }

  @Test
  @Order(4)
  void secretIsOwnedByTheBinding() {
    AwsMfaBinding b = binding();
    Secret secret = cp.client().secrets().inNamespace(NS).withName("aws-mfa").get();
    assertThat(secret).as("Secret aws-mfa").isNotNull();
    assertThat(secret.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            (OwnerReference o) -> {
              assertThat(o.getApiVersion()).isEqualTo("vaultmfa.io/v1alpha1");
              assertThat(o.getKind()).isEqualTo("AwsMfaBinding");
              assertThat(o.getName()).isEqualTo(BINDING);
              assertThat(o.getUid()).isEqualTo(b.getMetadata().getUid());
              assertThat(o.getController()).isTrue();
            });
    // The operator (as its ServiceAccount) wrote Events on the binding.
    List<Event> events = cp.client().v1().events().inNamespace(NS).list().getItems();
    assertThat(events)
        .as("Events on the binding")
        .anySatisfy(e -> assertThat(e.getInvolvedObject().getName()).isEqualTo(BINDING));
  }

  @Test
  @Order(5)
  void vaultHoldsTheSeedIamIssued() {
    String serial = binding().getStatus().getSerialNumber();
    String seed = iamBoundary.seedOf(serial);
    assertThat(seed).as("seed captured at the IAM boundary").isNotNull();
    for (int attempt = 0; ; attempt++) {
      long before = Instant.now().getEpochSecond();
      VaultHttp.Response r = root.get("totp/code/" + KEY);
      long after = Instant.now().getEpochSecond();
      assertThat(r.status()).as("read totp/code/%s: %s", KEY, r).isEqualTo(200);
      String code = r.body().path("data").path("code").asText();
      if (code.equals(Totp.code(seed, before)) || code.equals(Totp.code(seed, after))) {
        return;
      }
      assertThat(attempt)
          .as("Vault's code at totp/code/%s equals the RFC 6238 code of the device's seed", KEY)
          .isZero();
    }
  }

  @Test
  @Order(6)
  void operatorLoginGetsAPolicyScopedToTheTotpKeys() {
    VaultHttp.Response login =
        new VaultHttp(bao.address(), null)
            .post(
                "auth/kubernetes/login", Map.of("role", "vault-mfa-operator", "jwt", operatorJwt));
    assertThat(login.status()).as("Kubernetes login: %s", login).isEqualTo(200);
    JsonNode auth = login.body().path("auth");
    List<String> policies = new ArrayList<>();
    auth.path("token_policies").forEach(p -> policies.add(p.asText()));
    assertThat(policies).contains("vault-mfa-operator");
    assertThat(auth.path("metadata").path("service_account_name").asText()).isEqualTo(OPERATOR_SA);
    assertThat(auth.path("metadata").path("service_account_namespace").asText())
        .isEqualTo(OPERATOR_NAMESPACE);
    VaultHttp asOperator = root.withToken(auth.path("client_token").asText());

    // Allowed: keys and codes under totp/.
    String probe = "e2e-policy-probe";
    assertThat(
            asOperator
                .post(
                    "totp/keys/" + probe,
                    Map.of(
                        "generate",
                        true,
                        "exported",
                        false,
                        "issuer",
                        "probe",
                        "account_name",
                        "probe"))
                .status())
        .as("create totp/keys/%s", probe)
        .isBetween(200, 204);
    assertThat(asOperator.get("totp/keys/" + probe).status()).isEqualTo(200);
    assertThat(asOperator.get("totp/code/" + probe).status()).isEqualTo(200);
    assertThat(asOperator.get("totp/keys/" + KEY).status()).isEqualTo(200);
    assertThat(asOperator.delete("totp/keys/" + probe).status()).isBetween(200, 204);

    // Denied: anything outside, including the same engine at another mount.
    bao.enableMount("other-totp", "totp");
    assertThat(
            asOperator
                .post(
                    "other-totp/keys/x",
                    Map.of("generate", true, "exported", false, "issuer", "x", "account_name", "x"))
                .status())
        .as("another mount's keys")
        .isEqualTo(403);
    assertThat(asOperator.get("sys/mounts").status()).as("sys/mounts").isEqualTo(403);
    assertThat(asOperator.list("totp/keys").status()).as("list totp/keys").isEqualTo(403);
    assertThat(asOperator.get("sys/policies/acl/vault-mfa-operator").status())
        .as("its own policy")
        .isEqualTo(403);

    // A token of another ServiceAccount is refused by the role.
    ok(cp.kubectl("create", "serviceaccount", "intruder", "-n", NS), "another ServiceAccount");
    String intruder = ClusterSetup.token(cp, NS, "intruder");
    VaultHttp.Response refused =
        new VaultHttp(bao.address(), null)
            .post("auth/kubernetes/login", Map.of("role", "vault-mfa-operator", "jwt", intruder));
    assertThat(refused.status()).as("login of another ServiceAccount").isEqualTo(403);
  }

  @Test
  @Order(99)
  void operatorNeededNoPermissionItLacks() {
    assertThat(logs.all()).doesNotContainIgnoringCase("forbidden");
  }

  @Test
  @Order(7)
  void secretEditedOrDeletedByHandIsRepaired() {
    var secrets = cp.client().secrets().inNamespace(NS);
    Secret original = secrets.withName("aws-mfa").get();
    String serial = original.getData().get("AWS_MFA_SERIAL_NUMBER");
    assertThat(serial).isNotNull();

    ok(
        cp.kubectl(
            "patch",
            "secret",
            "aws-mfa",
            "-n",
            NS,
            "--type=merge",
            "-p",
            "{\"stringData\":{\"AWS_MFA_SERIAL_NUMBER\":\"tampered\"}}"),
        "edit the Secret by hand");
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                serial.equals(
                    secrets.withName("aws-mfa").get().getData().get("AWS_MFA_SERIAL_NUMBER")));

    ok(cp.kubectl("delete", "secret", "aws-mfa", "-n", NS), "delete the Secret by hand");
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              Secret s = secrets.withName("aws-mfa").get();
              return s != null
                  && !s.getMetadata().getUid().equals(original.getMetadata().getUid())
                  && serial.equals(s.getData().get("AWS_MFA_SERIAL_NUMBER"));
            });
  }

  @Test
  @Order(8)
  void changingSecretNameMovesTheSecret() {
    ok(
        cp.kubectl(
            "patch",
            "awsmfabinding",
            BINDING,
            "-n",
            NS,
            "--type=merge",
            "-p",
            "{\"spec\":{\"secretName\":\"aws-codes\"}}"),
        "change spec.secretName");
    var secrets = cp.client().secrets().inNamespace(NS);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                secrets.withName("aws-codes").get() != null
                    && secrets.withName("aws-mfa").get() == null
                    && "aws-codes".equals(binding().getStatus().getSecretName())
                    && binding()
                        .getStatus()
                        .getObservedGeneration()
                        .equals(binding().getMetadata().getGeneration()));
    ok(
        cp.kubectl(
            "wait", "--for=condition=Ready", "awsmfabinding/" + BINDING, "-n", NS, "--timeout=30s"),
        "still Ready");
  }

  @Test
  @Order(9)
  void mountOutsideTheVaultPolicyIsReportedAndRolledBack() {
    // other-totp exists (enabled above) but the operator's policy does not cover it.
    String manifest =
        String.join(
            "\n",
            "apiVersion: vaultmfa.io/v1alpha1",
            "kind: AwsMfaBinding",
            "metadata: {name: denied, namespace: " + NS + "}",
            "spec: {iamUser: {name: denied-user}, vault: {mount: other-totp, keyName: denied}}",
            "");
    ok(cp.kubectlWithInput(manifest, "apply", "-f", "-"), "apply a binding on other-totp");
    ok(
        cp.kubectl(
            "wait",
            "--for=jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}=VaultDenied",
            "awsmfabinding/denied",
            "-n",
            NS,
            "--timeout=60s"),
        "Ready carries VaultDenied (status written by the error path, with server-side apply)");
    String ready =
        ok(
            cp.kubectl(
                "get",
                "awsmfabinding",
                "denied",
                "-n",
                NS,
                "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"),
            "Ready status");
    assertThat(ready).isEqualTo("False");
    assertThat(
            iam
                .listVirtualMFADevicesPaginator(r -> r.assignmentStatus(AssignmentStatusType.ANY))
                .virtualMFADevices()
                .stream()
                .map(VirtualMFADevice::serialNumber)
                .filter(sn -> sn.endsWith(":mfa/denied-user"))
                .toList())
        .as("the device is rolled back when Vault refuses the key")
        .isEmpty();
    assertThat(root.get("other-totp/keys/denied").status()).isEqualTo(404);

    ok(
        cp.kubectl("delete", "awsmfabinding", "denied", "-n", NS, "--timeout=60s"),
        "a binding that never enrolled is deleted");
  }

  @Test
  @Order(10)
  void kubectlDeleteRemovesDeviceKeyFinalizerAndSecret() {
    String serial = binding().getStatus().getSerialNumber();
    String secretName = binding().getStatus().getSecretName();
    assertThat(cp.client().secrets().inNamespace(NS).withName(secretName).get()).isNotNull();
    ok(
        cp.kubectl("delete", "awsmfabinding", BINDING, "-n", NS, "--timeout=90s"),
        "kubectl delete awsmfabinding aws (waits for the finalizer)");
    assertThat(
            ok(
                    cp.kubectl(
                        "get",
                        "awsmfabinding",
                        BINDING,
                        "-n",
                        NS,
                        "--ignore-not-found",
                        "-o",
                        "name"),
                    "get after delete")
                .trim())
        .isEmpty();

    List<String> devices =
        iam
            .listVirtualMFADevicesPaginator(r -> r.assignmentStatus(AssignmentStatusType.ANY))
            .virtualMFADevices()
            .stream()
            .map(VirtualMFADevice::serialNumber)
            .toList();
    assertThat(devices).doesNotContain(serial);
    boolean userExists;
    try {
      iam.getUser(r -> r.userName(USER));
      userExists = true;
    } catch (NoSuchEntityException e) {
      userExists = false;
    }
    assertThat(userExists).as("the IAM user the binding created is deleted").isFalse();
    assertThat(root.get("totp/keys/" + KEY).status()).as("Vault key totp/keys/aws").isEqualTo(404);

    // The controller-manager's garbage collector removes the owned Secret.
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> cp.client().secrets().inNamespace(NS).withName(secretName).get() == null);
  }
}
