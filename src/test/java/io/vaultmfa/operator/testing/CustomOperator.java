package io.vaultmfa.operator.testing;

import io.javaoperatorsdk.operator.Operator;
import io.vaultmfa.operator.Main;
import io.vaultmfa.operator.config.OperatorConfig;
import io.vaultmfa.operator.config.Setting;
import io.vaultmfa.operator.iam.IamProvider;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;

/**
 * The operator under test, wired exactly as {@link OperatorHarness#startOperator} wires it (same
 * settings, the harness' Kubernetes client, meter registry and {@link SeedCapture}), but with a
 * chosen IAM/STS endpoint and extra SDK interceptors after the seed capture. For tests that must
 * see more than the harness shows (e.g. where a Vault call falls between two IAM calls) or that
 * put {@link MfaTagProxy} in front of moto. Stop the harness' own operator first.
 */
public final class CustomOperator implements AutoCloseable {

  private static final StaticCredentialsProvider CREDS =
      StaticCredentialsProvider.create(AwsBasicCredentials.create("testing", "testing"));

  private final OperatorHarness h;
  private final URI endpoint;
  private final List<ExecutionInterceptor> extra;
  private Operator operator;

  public CustomOperator(OperatorHarness h, URI endpoint, List<ExecutionInterceptor> extra) {
    this.h = h;
    this.endpoint = endpoint;
    this.extra = List.copyOf(extra);
  }

  public synchronized void start() {
    if (operator != null) {
      return;
    }
    Map<Setting, String> s = new HashMap<>();
    s.put(Setting.CLUSTER_ID, OperatorHarness.CLUSTER_ID);
    s.put(Setting.VAULT_ADDRESS, h.bao.address());
    s.put(Setting.VAULT_TOKEN, h.bao.token());
    s.put(Setting.RESYNC_INTERVAL, "10m");
    s.put(Setting.METRICS_PORT, "0");
    s.put(Setting.SERVER_SIDE_APPLY, "false");
    List<ExecutionInterceptor> interceptors = new ArrayList<>();
    interceptors.add(h.iamBoundary);
    interceptors.addAll(extra);
    IamProvider.Settings aws = new IamProvider.Settings(
        Region.US_EAST_1, Optional.of(endpoint), Optional.of(endpoint), CREDS, interceptors);
    operator = Main.start(OperatorConfig.of(s), h.client, h.meters, aws);
  }

  public synchronized void stop() {
    if (operator != null) {
      operator.stop();
      operator = null;
    }
  }

  @Override
  public void close() {
    stop();
  }
}
