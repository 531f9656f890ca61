package io.vaultmfa.operator.testing;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vaultmfa.operator.Main;
import io.vaultmfa.operator.VaultMfaOperator;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.AwsMfaBindingSpec;
import io.vaultmfa.operator.api.IamUserSpec;
import io.vaultmfa.operator.api.VaultSpec;
import io.vaultmfa.operator.config.OperatorConfig;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.iam.IamProvider;
import io.vaultmfa.operator.metrics.HealthServer;
import io.vaultmfa.operator.metrics.OutsideCalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.services.iam.IamClient;

/**
 * The operator under test, in this JVM, against real OpenBao and moto processes and fabric8's mock
 * API server in CRUD mode. One per test class; {@link #close()} stops everything.
 */
public final class OperatorHarness implements AutoCloseable {

  public static final String CLUSTER_ID = "test-cluster";

  /**
   * fabric8's mock web server logs every request through java.util.logging at INFO, onto the
   * console of the test run; a strong reference keeps the quieter level (JUL holds loggers weakly).
   */
  private static final java.util.logging.Logger MOCK_SERVER_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  public final OpenBaoServer bao;
  public final MotoServer moto;
  public final KubernetesMockServer api;
  public final StatusConflicts statusConflicts = new StatusConflicts();
  public final KubernetesClient client;
  public final SeedCapture iamBoundary = new SeedCapture();

  /** What IAM would authorize each of the operator's calls by; checked against the IAM policy. */
  public final IamAuthorizations iamAuthorizations;

  /** The operator's registry, as /metrics serves it ({@link #scrape()}). */
  public final PrometheusMeterRegistry meters =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  public final OutsideCalls calls = new OutsideCalls(meters);
  public final LogCapture logs = LogCapture.install();
  public final IamClient iam;

  /** Every version of bindings, Secrets and Events, for the seed check. */
  public final ClusterRecorder seen;

  private final HttpClient http = HttpClient.newHttpClient();
  private final List<String> testSeeds = new java.util.concurrent.CopyOnWriteArrayList<>();
  private VaultMfaOperator operator;
  private HealthServer health;

  private OperatorHarness(OpenBaoServer bao, MotoServer moto) {
    this.bao = bao;
    this.moto = moto;
    this.api =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), new HashMap<>(), statusConflicts, false);
    api.init();
    this.client = api.createClient();
    this.seen = ClusterRecorder.start(client);
    this.iam = moto.iamClient();
    this.iamAuthorizations =
        new IamAuthorizations(
            iam, MotoServer.ACCOUNT, Map.of(IamAuthorizations.PRINCIPAL_CLUSTER_TAG, CLUSTER_ID));
  }

  /** Starts OpenBao, moto, the mock API server and the operator with default settings. */
  public static OperatorHarness start() {
    return start(Map.of());
  }

  public static OperatorHarness start(Map<Setting, String> overrides) {
    OpenBaoServer bao = OpenBaoServer.start();
    MotoServer moto;
    try {
      moto = MotoServer.start();
    } catch (RuntimeException e) {
      bao.close();
      throw e;
    }
    OperatorHarness h = new OperatorHarness(bao, moto);
    h.startOperator(overrides);
    return h;
  }

  public void startOperator(Map<Setting, String> overrides) {
    startOperator(overrides, List.of());
  }

  /** Starts the operator with more SDK interceptors at its IAM boundary, after the seed capture. */
  public void startOperator(
      Map<Setting, String> overrides,
      List<software.amazon.awssdk.core.interceptor.ExecutionInterceptor> extra) {
    Map<Setting, String> s = new HashMap<>();
    s.put(Setting.CLUSTER_ID, CLUSTER_ID);
    s.put(Setting.VAULT_ADDRESS, bao.address());
    s.put(Setting.VAULT_TOKEN, bao.token());
    s.put(Setting.RESYNC_INTERVAL, "10m");
    s.put(Setting.METRICS_PORT, "0");
    // fabric8's mock server has partial support for server-side apply (kubernetes-client #5337).
    s.put(Setting.SERVER_SIDE_APPLY, "false");
    s.putAll(overrides);
    OperatorConfig config = OperatorConfig.of(s);
    IamProvider.Settings aws =
        moto.operatorSettings(
            java.util.stream.Stream.concat(
                    java.util.stream.Stream.of(iamBoundary, iamAuthorizations), extra.stream())
                .toList());
    operator = Main.start(config, client, meters, aws);
    try {
      health = operator.serve(0, meters);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void stopOperator() {
    if (operator != null) {
      operator.stop();
      operator = null;
      health = null;
    }
  }

  /** GET on the operator's /metrics, /healthz or /readyz, as Prometheus and the kubelet do. */
  public HttpResponse<String> getHttp(String path) {
    try {
      return http.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + health.port() + path))
              .GET()
              .build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The Prometheus text the operator serves on /metrics right now. */
  public String scrape() {
    HttpResponse<String> r = getHttp("/metrics");
    org.assertj.core.api.Assertions.assertThat(r.statusCode()).as("GET /metrics").isEqualTo(200);
    return r.body();
  }

  // ---- fixtures

  public static AwsMfaBinding binding(String namespace, String name, String user) {
    AwsMfaBinding b = new AwsMfaBinding();
    b.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    AwsMfaBindingSpec spec = new AwsMfaBindingSpec();
    IamUserSpec u = new IamUserSpec();
    u.setName(user);
    spec.setIamUser(u);
    spec.setVault(new VaultSpec());
    b.setSpec(spec);
    return b;
  }

  public AwsMfaBinding apply(AwsMfaBinding b) {
    return client.resource(b).create();
  }

  public AwsMfaBinding get(String ns, String name) {
    return client.resources(AwsMfaBinding.class).inNamespace(ns).withName(name).get();
  }

  public Optional<Condition> condition(String ns, String name, String type) {
    AwsMfaBinding b = get(ns, name);
    if (b == null || b.getStatus() == null) {
      return Optional.empty();
    }
    return b.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  public AwsMfaBinding awaitReady(String ns, String name) {
    awaitCondition(ns, name, "Ready", "True", null);
    return get(ns, name);
  }

  public Condition awaitCondition(
      String ns, String name, String type, String status, String reason) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                condition(ns, name, type)
                    .filter(c -> status.equals(c.getStatus()))
                    .filter(c -> reason == null || reason.equals(c.getReason()))
                    .isPresent());
    return condition(ns, name, type).orElseThrow();
  }

  public void delete(String ns, String name) {
    client.resources(AwsMfaBinding.class).inNamespace(ns).withName(name).delete();
  }

  public void awaitGone(String ns, String name) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> get(ns, name) == null);
  }

  public Secret secret(String ns, String name) {
    return client.secrets().inNamespace(ns).withName(name).get();
  }

  public List<Event> events(String ns) {
    return client.v1().events().inNamespace(ns).list().getItems();
  }

  // ---- Vault, as a person with the root token sees it

  /** GET on the Vault API; empty on 404. */
  public Optional<JsonNode> vaultRead(String path) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(bao.address() + "/v1/" + path))
                  .header("X-Vault-Token", bao.token())
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 404 || r.statusCode() == 400) {
        return Optional.empty();
      }
      return Optional.of(JSON.readTree(r.body()).path("data"));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public String vaultCode(String mount, String key) {
    return vaultRead(mount + "/code/" + key).orElseThrow().path("code").asText();
  }

  /**
   * Vault's code for the key equals the RFC 6238 code of the seed. Vault computes at its own clock,
   * so the windows just before and after the read both count, and one more read is allowed when a
   * window edge fell in between.
   */
  public void assertVaultCodeIsCodeOf(String mount, String key, String seed) {
    for (int attempt = 0; ; attempt++) {
      long before = java.time.Instant.now().getEpochSecond();
      String code = vaultCode(mount, key);
      long after = java.time.Instant.now().getEpochSecond();
      if (code.equals(io.vaultmfa.operator.totp.Totp.code(seed, before))
          || code.equals(io.vaultmfa.operator.totp.Totp.code(seed, after))) {
        return;
      }
      org.assertj.core.api.Assertions.assertThat(attempt)
          .as("Vault's code for %s/%s equals the RFC 6238 code of the device's seed", mount, key)
          .isZero();
    }
  }

  // ---- IAM, as a person with the account's credentials sees it

  public boolean userExists(String name) {
    try {
      iam.getUser(r -> r.userName(name));
      return true;
    } catch (software.amazon.awssdk.services.iam.model.NoSuchEntityException e) {
      return false;
    }
  }

  /** Serial numbers of the virtual devices, assigned or not, at this path and name. */
  public List<String> virtualDevicesNamed(String path, String name) {
    return iam
        .listVirtualMFADevicesPaginator(
            r ->
                r.assignmentStatus(
                    software.amazon.awssdk.services.iam.model.AssignmentStatusType.ANY))
        .virtualMFADevices()
        .stream()
        .map(software.amazon.awssdk.services.iam.model.VirtualMFADevice::serialNumber)
        .filter(s -> s.endsWith(":mfa" + path + name))
        .toList();
  }

  // ---- hygiene

  /** A seed a test made itself (outside the operator); the hygiene check looks for it too. */
  public void rememberSeed(String seed) {
    testSeeds.add(seed);
  }

  /**
   * Everything a person or a log pipeline could see: the operator's logs, Events, every binding's
   * status and every Secret, now and in every version the test run saw. Fails if any seed IAM
   * issued (or a test made) appears there.
   */
  public void assertNoSeedLeaked() {
    List<String> seeds = new ArrayList<>(iamBoundary.allSeeds());
    seeds.addAll(testSeeds);
    SeedHygiene.assertNoSeed("the operator's logs", logs.all(), seeds);
    SeedHygiene.assertNoSeedInCluster(client, seeds);
    seen.assertNoSeed(seeds);
    SeedHygiene.assertNoSeed("metrics", meters.scrape(), seeds);
  }

  // ---- least privilege

  /** The operator's IAM policy, as the README tells users to attach it. */
  public static final java.nio.file.Path IAM_POLICY =
      java.nio.file.Path.of("config/iam-policy.json");

  /**
   * Every IAM and STS call the operator made in this harness is allowed by config/iam-policy.json,
   * with the tags and resources it touched. {@code sts:GetCallerIdentity} is left out: AWS answers
   * it whatever the policies say.
   */
  public void assertIamPolicyAllowsEveryCall() {
    IamPolicy policy = IamPolicy.read(IAM_POLICY);
    List<String> denied = new ArrayList<>();
    for (IamPolicy.Request r : iamAuthorizations.requests()) {
      if (!r.action().equals("sts:GetCallerIdentity") && !policy.allows(r)) {
        denied.add(r.action() + " on " + r.resource() + " with " + r.context());
      }
    }
    org.assertj.core.api.Assertions.assertThat(denied)
        .as("calls of the operator that %s does not allow", IAM_POLICY)
        .isEmpty();
  }

  @Override
  public void close() {
    try {
      stopOperator();
    } finally {
      logs.uninstall();
      seen.close();
      client.close();
      api.destroy();
      iam.close();
      moto.close();
      bao.close();
    }
  }
}
