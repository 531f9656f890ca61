package io.vaultmfa.operator.e2e;

import static io.vaultmfa.operator.e2e.ClusterSetup.OPERATOR_NAMESPACE;
import static io.vaultmfa.operator.e2e.ClusterSetup.OPERATOR_SA;
import static io.vaultmfa.operator.e2e.ClusterSetup.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Secret;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.iam.Ownership;
import io.vaultmfa.operator.outside.Failpoints;
import io.vaultmfa.operator.testing.ClusterRecorder;
import io.vaultmfa.operator.testing.KubeControlPlane;
import io.vaultmfa.operator.testing.MotoServer;
import io.vaultmfa.operator.testing.OpenBaoServer;
import io.vaultmfa.operator.testing.OperatorProcess;
import io.vaultmfa.operator.testing.SeedHygiene;
import io.vaultmfa.operator.testing.VaultHttp;
import io.vaultmfa.operator.totp.Totp;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AssignmentStatusType;
import software.amazon.awssdk.services.iam.model.MFADevice;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;
import software.amazon.awssdk.services.iam.model.Tag;
import software.amazon.awssdk.services.iam.model.VirtualMFADevice;

/**
 * Invariant I3 (and case K07): the operator, as its own JVM, is killed with SIGKILL right after
 * each call to the outside of the create path and of the delete path, and started again. It must
 * converge to exactly one enabled device of the binding whose seed the Vault key holds, with no
 * leftover device or key, status Ready with IAM's serial (or, when deleting, nothing left at all).
 *
 * <p>The operator runs as {@code io.vaultmfa.operator.Main} configured by environment variables, as
 * the ServiceAccount of {@code deploy/} on the shared real kube-apiserver, with a Vault token
 * holding only {@code config/vault-policy.hcl}. It stops at a point when {@code
 * VAULTMFA_FAILPOINTS} names it ({@link Failpoints}). Each case has its own namespace, binding, IAM
 * user and Vault key, and its own operator processes watching only that namespace, so cases run
 * side by side against one OpenBao and one moto. Seeds are read from moto (which, unlike AWS, lists
 * them) at the crash and at the end, for the checks only; nothing here prints them.
 */
@ExtendWith(SharedControlPlane.class)
class CrashE2E {

  private static final String CLUSTER_ID = "crash";
  private static final String BINDING = "b";
  private static final Duration CONVERGE = Duration.ofSeconds(120);
  private static final String CLEANUP = "120s";

  /** Crash points after which the device exists but is not enabled yet. */
  private static final Set<String> BEFORE_ENABLE =
      Set.of("iam.CreateVirtualMFADevice", "vault.WriteKey", "vault.ReadCode");

  private static final int PARALLEL = Integer.getInteger("vaultmfa.crash.parallel", 3);

  /** A crash point: the failpoint, what just happened, and whether the binding is being deleted. */
  record Case(String point, String what, boolean deleting) {
    String slug() {
      return point.toLowerCase(java.util.Locale.ROOT).replace('.', '-');
    }

    String namespace() {
      return "crash-" + slug();
    }

    /** IAM user and Vault key of the case. */
    String user() {
      return "crash-" + slug();
    }

    @Override
    public String toString() {
      return (deleting ? "delete: " : "create: ") + what + " (" + point + ")";
    }
  }

  /**
   * What a restart took to converge, from the restarted operator's own /metrics: its calls to the
   * outside by operation, and how many reconciliations it ran until it was idle.
   */
  record Recovery(Case c, Map<String, Long> calls, long reconciliations) {
    long total() {
      return calls.values().stream().mapToLong(Long::longValue).sum();
    }

    long writes() {
      return calls.entrySet().stream()
          .filter(e -> isWrite(e.getKey()))
          .mapToLong(Map.Entry::getValue)
          .sum();
    }
  }

  /** Every case, or those whose point {@code -Dvaultmfa.crash.points=a,b} names. */
  static Stream<Case> cases() {
    Set<String> only = Failpoints.parse(System.getProperty("vaultmfa.crash.points", ""));
    return allCases().filter(c -> only.isEmpty() || only.contains(c.point()));
  }

  private static Stream<Case> allCases() {
    return Stream.of(
        new Case("iam.CreateUser", "user created", false),
        new Case("iam.AttachUserPolicy", "policy attached", false),
        new Case("iam.CreateVirtualMFADevice", "device created (K07)", false),
        new Case("vault.WriteKey", "Vault key written", false),
        new Case("vault.ReadCode", "Vault code checked", false),
        new Case("iam.EnableMFADevice", "device enabled", false),
        new Case(Failpoints.KUBERNETES_SECRET_WRITE, "Secret written", false),
        new Case(Failpoints.KUBERNETES_STATUS_WRITE, "status written", false),
        new Case("iam.DeactivateMFADevice", "device deactivated", true),
        new Case("iam.DeleteVirtualMFADevice", "device deleted", true),
        new Case("vault.DeleteKey", "Vault key deleted", true),
        new Case("iam.DetachUserPolicy", "policy detached", true),
        new Case("iam.DeleteUser", "user deleted", true),
        new Case(Failpoints.KUBERNETES_FINALIZER_REMOVED, "finalizer removed", true));
  }

  private static KubeControlPlane cp;
  private static ClusterRecorder seen;
  private static OpenBaoServer bao;
  private static MotoServer moto;
  private static IamClient iam;
  private static VaultHttp root;
  private static Map<String, String> operatorEnv;
  private static String policyArn;
  private static ExecutorService pool;
  private static final Map<String, CompletableFuture<Recovery>> runs = new LinkedHashMap<>();
  private static final Set<String> seeds = ConcurrentHashMap.newKeySet();
  private static final List<OperatorProcess> processes =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private static final List<String> metricsTexts =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  @BeforeAll
  static void startEverythingAndRunTheCases() throws IOException {
    cp = SharedControlPlane.get();
    seen = ClusterRecorder.start(cp.client());
    bao = OpenBaoServer.start();
    moto = MotoServer.start();
    iam = moto.iamClient();
    root = new VaultHttp(bao.address(), bao.token());
    // A customer managed policy every binding attaches (moto does not load AWS's own).
    policyArn =
        iam.createPolicy(
                r ->
                    r.policyName("crash-read-only")
                        .policyDocument(
                            "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                                + "\"Action\":\"iam:GetUser\",\"Resource\":\"*\"}]}"))
            .policy()
            .arn();

    // Vault: a token with only the operator's policy.
    root.write(
        "sys/policies/acl/vault-mfa-operator",
        Map.of("policy", ClusterSetup.read(Path.of("config/vault-policy.hcl"))));
    String vaultToken =
        root.write(
                "auth/token/create", Map.of("policies", List.of("vault-mfa-operator"), "ttl", "2h"))
            .body()
            .path("auth")
            .path("client_token")
            .asText();
    Path tokenFile = secretFile("crash-vault-token", vaultToken);

    // Kubernetes: the ServiceAccount of deploy/, through a kubeconfig with its token only.
    String jwt = ClusterSetup.token(cp, OPERATOR_NAMESPACE, OPERATOR_SA);
    Path kubeconfig = cp.kubeconfigForToken("crash-operator", jwt);

    Map<String, String> env = new HashMap<>();
    env.put("VAULTMFA_CLUSTER_ID", CLUSTER_ID);
    env.put("KUBECONFIG", kubeconfig.toString());
    env.put("VAULT_ADDR", bao.address());
    env.put("VAULTMFA_VAULT_AUTH", "token");
    env.put("VAULTMFA_VAULT_TOKEN_FILE", tokenFile.toString());
    env.put("AWS_ACCESS_KEY_ID", "testing");
    env.put("AWS_SECRET_ACCESS_KEY", "testing");
    env.put("AWS_REGION", "us-east-1");
    env.put("AWS_EC2_METADATA_DISABLED", "true");
    env.put("VAULTMFA_AWS_IAM_ENDPOINT", moto.endpoint().toString());
    env.put("VAULTMFA_AWS_STS_ENDPOINT", moto.endpoint().toString());
    operatorEnv = Map.copyOf(env);

    pool = Executors.newFixedThreadPool(PARALLEL);
    cases().forEach(c -> runs.put(c.point(), CompletableFuture.supplyAsync(() -> run(c), pool)));
  }

  @AfterAll
  static void reportAndStop() {
    try {
      CompletableFuture.allOf(runs.values().toArray(CompletableFuture[]::new))
          .exceptionally(t -> null)
          .join();
      printTable();
      if (cp != null) {
        assertNoSeedLeaked();
      }
    } finally {
      if (pool != null) {
        pool.shutdownNow();
      }
      processes.forEach(OperatorProcess::close);
      if (cp != null) {
        List<String> delete = new ArrayList<>(List.of("delete", "namespace", "--wait=false"));
        cases().forEach(c -> delete.add(c.namespace()));
        cp.kubectl(delete.toArray(String[]::new));
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

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void restartAfterSigkillConverges(Case c) throws Throwable {
    try {
      runs.get(c.point()).join();
    } catch (java.util.concurrent.CompletionException e) {
      throw e.getCause();
    }
  }

  // ---- one case

  private static Recovery run(Case c) {
    ok(cp.kubectl("create", "namespace", c.namespace()), "namespace " + c.namespace());
    OperatorProcess first = operator(c, "crash-" + c.slug() + "-1", c.point());
    AwsMfaBinding before;
    ok(cp.kubectlWithInput(manifest(c), "apply", "-f", "-"), "apply the binding of " + c);
    if (c.deleting()) {
      before = awaitReady(c, first);
      ok(
          cp.kubectl("delete", "awsmfabinding", BINDING, "-n", c.namespace(), "--wait=false"),
          "kubectl delete of " + c);
    } else {
      before = null;
    }
    first.awaitFailpoint(c.point(), CONVERGE);
    Map<String, String> atCrash = seedsBySerial(c);
    seeds.addAll(atCrash.values());
    int exit = first.kill();
    assertThat(exit).as("exit code of the operator killed at %s (128 + SIGKILL)", c).isEqualTo(137);

    OperatorProcess second = operator(c, "crash-" + c.slug() + "-2", null);
    String metrics;
    if (c.deleting()) {
      await(c, second, () -> binding(c) == null, "the binding to be gone");
      metrics = second.metricsWhenIdle(0);
      assertNothingLeft(c, before);
    } else {
      awaitReady(c, second);
      metrics = second.metricsWhenIdle(1);
      AwsMfaBinding after = binding(c);
      assertConverged(c, after, atCrash);
    }
    metricsTexts.add(metrics);
    writeBeside(second.log(), ".metrics", metrics);
    if (!c.deleting()) {
      // Leave nothing behind for the other classes on this control plane, whose operators watch
      // every namespace: the restarted operator removes what it enrolled.
      ok(
          cp.kubectl(
              "delete", "awsmfabinding", BINDING, "-n", c.namespace(), "--timeout=" + CLEANUP),
          "kubectl delete of " + c + " after the checks");
    }
    second.kill();
    Map<String, Long> calls = OperatorProcess.outsideCalls(metrics);
    if (!c.point().equals(Failpoints.KUBERNETES_FINALIZER_REMOVED)) {
      // At least the user is read again; none means the metric was not found.
      assertThat(calls)
          .as("%s: outside calls in the restarted operator's /metrics", c)
          .isNotEmpty();
    }
    return new Recovery(
        c,
        calls,
        (long) OperatorProcess.sum(metrics, "operator_sdk_reconciliations_started_total"));
  }

  private static OperatorProcess operator(Case c, String name, String failpoint) {
    Map<String, String> env = new HashMap<>(operatorEnv);
    env.put("VAULTMFA_WATCH_NAMESPACES", c.namespace());
    if (failpoint != null) {
      env.put(Failpoints.ENV, failpoint);
    }
    OperatorProcess p = OperatorProcess.start(name, env);
    processes.add(p);
    return p;
  }

  private static String manifest(Case c) {
    return String.join(
        "\n",
        "apiVersion: vaultmfa.io/v1alpha1",
        "kind: AwsMfaBinding",
        "metadata: {name: " + BINDING + ", namespace: " + c.namespace() + "}",
        "spec:",
        "  iamUser: {name: " + c.user() + ", managedPolicyArns: [\"" + policyArn + "\"]}",
        "  vault: {keyName: " + c.user() + "}",
        "");
  }

  // ---- what must hold after the restart

  /**
   * Exactly one enabled device of the binding, whose seed Vault holds; no unassigned device of its
   * name; status Ready with IAM's serial; the Secret points at it.
   */
  private static void assertConverged(Case c, AwsMfaBinding b, Map<String, String> atCrash) {
    String uid = b.getMetadata().getUid();
    List<String> enabled =
        iam.listMFADevices(r -> r.userName(c.user())).mfaDevices().stream()
            .map(MFADevice::serialNumber)
            .toList();
    assertThat(enabled).as("%s: MFA devices enabled on IAM user %s", c, c.user()).hasSize(1);
    String serial = enabled.get(0);
    Map<String, String> tags = new HashMap<>();
    for (Tag t : iam.listMFADeviceTags(r -> r.serialNumber(serial)).tags()) {
      tags.put(t.key(), t.value());
    }
    assertThat(tags)
        .as("%s: the enabled device carries the binding's ownership tags", c)
        .containsEntry(Ownership.CLUSTER_TAG, CLUSTER_ID)
        .containsEntry(Ownership.UID_TAG, uid);
    assertThat(b.getStatus().getSerialNumber()).as("%s: status.serialNumber", c).isEqualTo(serial);

    assertThat(
            iam.listAttachedUserPolicies(r -> r.userName(c.user())).attachedPolicies().stream()
                .map(p -> p.policyArn())
                .toList())
        .as("%s: policies attached to IAM user %s", c, c.user())
        .containsExactly(policyArn);

    Map<String, String> now = seedsBySerial(c);
    seeds.addAll(now.values());
    assertThat(devicesOf(c, AssignmentStatusType.UNASSIGNED))
        .as("%s: unassigned devices of the binding left over", c)
        .isEmpty();
    assertThat(now.keySet()).as("%s: virtual devices of the binding", c).containsExactly(serial);
    String seed = now.get(serial);
    assertThat(seed).as("%s: moto lists the seed of %s", c, serial).isNotNull();
    assertVaultCodeIsCodeOf(c, seed);
    if (c.point().equals("iam.CreateVirtualMFADevice")) {
      assertThat(atCrash).as("K07: one device, unassigned, at the crash").hasSize(1);
    }
    if (!atCrash.isEmpty()) {
      boolean kept = seed.equals(atCrash.get(serial));
      boolean beforeEnable = BEFORE_ENABLE.contains(c.point());
      assertThat(kept)
          .as(
              beforeEnable
                  ? "%s: the unassigned device left at the crash is deleted and a new one enrolled"
                  : "%s: the device enabled before the crash is kept",
              c)
          .isEqualTo(!beforeEnable);
    }

    List<String> keys = new ArrayList<>();
    root.list("totp/keys").body().path("data").path("keys").forEach(k -> keys.add(k.asText()));
    assertThat(keys.stream().filter(k -> k.contains(c.slug())).toList())
        .as("%s: Vault keys of the binding", c)
        .containsExactly(c.user());

    Secret secret =
        cp.client().secrets().inNamespace(c.namespace()).withName(BINDING + "-mfa").get();
    assertThat(secret).as("%s: Secret %s-mfa", c, BINDING).isNotNull();
    assertThat(decode(secret.getData().get("AWS_MFA_SERIAL_NUMBER")))
        .as("%s: the Secret's serial", c)
        .isEqualTo(serial);
  }

  /** The binding is gone, and with it the user, every device of its name and the Vault key. */
  private static void assertNothingLeft(Case c, AwsMfaBinding before) {
    assertThat(before.getStatus().getSerialNumber())
        .as("%s: enrolled before deletion", c)
        .isNotNull();
    boolean userExists;
    try {
      iam.getUser(r -> r.userName(c.user()));
      userExists = true;
    } catch (NoSuchEntityException e) {
      userExists = false;
    }
    assertThat(userExists).as("%s: IAM user %s exists", c, c.user()).isFalse();
    assertThat(devicesOf(c, AssignmentStatusType.ANY))
        .as("%s: devices of the binding", c)
        .isEmpty();
    assertThat(root.get("totp/keys/" + c.user()).status())
        .as("%s: Vault key totp/keys/%s", c, c.user())
        .isEqualTo(404);
  }

  private static void assertVaultCodeIsCodeOf(Case c, String seed) {
    for (int attempt = 0; ; attempt++) {
      long before = Instant.now().getEpochSecond();
      VaultHttp.Response r = root.get("totp/code/" + c.user());
      long after = Instant.now().getEpochSecond();
      assertThat(r.status()).as("%s: read totp/code/%s: %s", c, c.user(), r).isEqualTo(200);
      String code = r.body().path("data").path("code").asText();
      if (code.equals(Totp.code(seed, before)) || code.equals(Totp.code(seed, after))) {
        return;
      }
      assertThat(attempt)
          .as("%s: Vault's code equals the RFC 6238 code of the enabled device's seed", c)
          .isZero();
    }
  }

  // ---- looking at IAM, Vault and the cluster

  /** Seeds of the virtual devices of the case's name, by serial, as moto lists them. */
  private static Map<String, String> seedsBySerial(Case c) {
    Map<String, String> m = new HashMap<>();
    for (VirtualMFADevice d : devicesOf(c, AssignmentStatusType.ANY)) {
      if (d.base32StringSeed() != null) {
        m.put(d.serialNumber(), d.base32StringSeed().asUtf8String());
      }
    }
    return m;
  }

  private static List<VirtualMFADevice> devicesOf(Case c, AssignmentStatusType status) {
    return iam
        .listVirtualMFADevicesPaginator(r -> r.assignmentStatus(status))
        .virtualMFADevices()
        .stream()
        .filter(d -> d.serialNumber().endsWith(":mfa/" + c.user()))
        .toList();
  }

  private static AwsMfaBinding binding(Case c) {
    return cp.client()
        .resources(AwsMfaBinding.class)
        .inNamespace(c.namespace())
        .withName(BINDING)
        .get();
  }

  private static AwsMfaBinding awaitReady(Case c, OperatorProcess p) {
    await(
        c,
        p,
        () -> {
          AwsMfaBinding b = binding(c);
          return b != null
              && b.getStatus() != null
              && b.getMetadata().getGeneration().equals(b.getStatus().getObservedGeneration())
              && ready(b).filter(r -> "True".equals(r.getStatus())).isPresent();
        },
        "Ready");
    return binding(c);
  }

  private static Optional<Condition> ready(AwsMfaBinding b) {
    return b.getStatus().getConditions().stream()
        .filter(x -> "Ready".equals(x.getType()))
        .findFirst();
  }

  /** Polls until {@code done}; fails with the binding's conditions when the operator exits. */
  private static void await(Case c, OperatorProcess p, BooleanSupplier done, String what) {
    Instant deadline = Instant.now().plus(CONVERGE);
    while (!done.getAsBoolean()) {
      if (!p.isAlive() || Instant.now().isAfter(deadline)) {
        AwsMfaBinding b = binding(c);
        throw new AssertionError(
            c
                + ": no "
                + what
                + (p.isAlive() ? " in time" : ", the operator exited")
                + "; conditions: "
                + (b == null || b.getStatus() == null
                    ? "none"
                    : io.fabric8.kubernetes.client.utils.Serialization.asJson(
                        b.getStatus().getConditions()))
                + "; operator log "
                + p.log());
      }
      sleep(Duration.ofMillis(200));
    }
  }

  // ---- hygiene and the report

  /** No seed in any operator process's output, Event, binding, Secret, or the metrics' names. */
  private static void assertNoSeedLeaked() {
    assertThat(seeds).as("seeds read from moto").isNotEmpty();
    for (OperatorProcess p : processes) {
      SeedHygiene.assertNoSeed("the output of " + p.log(), p.output(), seeds);
    }
    SeedHygiene.assertNoSeedInCluster(cp.client(), seeds);
    seen.assertNoSeed(seeds);
    SeedHygiene.assertNoSeed("metrics", String.join("\n", metricsTexts), seeds);
    SeedHygiene.assertNoSeedInControlPlaneLogs(cp, seeds);
  }

  private static void printTable() {
    StringBuilder t = new StringBuilder("\nCrash points and what the restart took (CrashE2E)\n");
    t.append(
        String.format(
            "%-56s %5s %6s %10s  %s%n",
            "killed right after",
            "calls",
            "writes",
            "reconciles",
            "calls of the restarted operator until idle"));
    for (CompletableFuture<Recovery> f : runs.values()) {
      if (f.isCompletedExceptionally() || !f.isDone()) {
        continue;
      }
      Recovery r = f.join();
      StringBuilder ops = new StringBuilder();
      r.calls()
          .forEach(
              (op, n) ->
                  ops.append(ops.length() == 0 ? "" : ", ").append(op).append(' ').append(n));
      t.append(
          String.format(
              "%-56s %5d %6d %10d  %s%n", r.c(), r.total(), r.writes(), r.reconciliations(), ops));
    }
    System.out.println(t);
  }

  static boolean isWrite(String systemDotOperation) {
    String op = systemDotOperation.substring(systemDotOperation.indexOf('.') + 1);
    return !(op.startsWith("Get") || op.startsWith("List") || op.startsWith("Read"));
  }

  private static Path secretFile(String name, String content) throws IOException {
    Path file = cp.dir().resolve(name);
    Files.writeString(file, content);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  /** Keeps the restarted operator's metrics next to its log, for a look afterwards. */
  private static void writeBeside(Path log, String suffix, String text) {
    try {
      Files.writeString(log.resolveSibling(log.getFileName() + suffix), text);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String decode(String b64) {
    return new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
