package io.vaultmfa.operator.iam;

import io.vaultmfa.operator.metrics.OutsideCalls;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.IamClientBuilder;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.StsClientBuilder;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;

/**
 * Builds the IAM gateway for a binding: the operator's own credentials, or a role the binding
 * names, assumed through STS. Clients are built once per role and reused.
 */
public class IamProvider implements AutoCloseable {

  /** How clients reach AWS (or an emulator). */
  public record Settings(
      Region region,
      Optional<URI> iamEndpoint,
      Optional<URI> stsEndpoint,
      AwsCredentialsProvider credentials,
      List<ExecutionInterceptor> interceptors) {

    public static Settings defaults(String region, Optional<URI> iam, Optional<URI> sts) {
      return new Settings(
          Region.of(region), iam, sts, DefaultCredentialsProvider.builder().build(), List.of());
    }
  }

  private final Settings settings;
  private final OutsideCalls calls;
  private final StsClient baseSts;
  private final Map<String, Iam> byRole = new ConcurrentHashMap<>();
  private final Optional<IamRateLimit> iamRateLimit;

  public IamProvider(Settings settings, OutsideCalls calls) {
    this(settings, calls, 0);
  }

  /**
   * As above, with all IAM clients together (the operator's own and each assumed role's) sending at
   * most {@code iamRequestsPerSecond} requests per second; 0 means no limit. STS is not limited.
   */
  public IamProvider(Settings settings, OutsideCalls calls, int iamRequestsPerSecond) {
    this.settings = settings;
    this.calls = calls;
    this.iamRateLimit = IamRateLimit.perSecond(iamRequestsPerSecond);
    this.baseSts = sts(settings.credentials());
  }

  public Iam forRole(Optional<String> roleArn) {
    return byRole.computeIfAbsent(roleArn.orElse(""), this::build);
  }

  private Iam build(String role) {
    AwsCredentialsProvider creds = settings.credentials();
    if (!role.isEmpty()) {
      creds =
          StsAssumeRoleCredentialsProvider.builder()
              .stsClient(baseSts)
              .refreshRequest(r -> r.roleArn(role).roleSessionName("vault-mfa-operator"))
              .build();
    }
    IamClientBuilder b =
        IamClient.builder()
            .region(Region.AWS_GLOBAL)
            .credentialsProvider(creds)
            .overrideConfiguration(override(iamRateLimit));
    settings.iamEndpoint().ifPresent(b::endpointOverride);
    return new Iam(b.build(), role.isEmpty() ? baseSts : sts(creds), calls);
  }

  private StsClient sts(AwsCredentialsProvider creds) {
    StsClientBuilder b =
        StsClient.builder()
            .region(settings.region())
            .credentialsProvider(creds)
            .overrideConfiguration(override(Optional.empty()));
    settings.stsEndpoint().ifPresent(b::endpointOverride);
    return b.build();
  }

  private ClientOverrideConfiguration override(Optional<IamRateLimit> limit) {
    // Retries are chosen, not left to the SDK's default (which profiles and AWS_RETRY_MODE can
    // change). Standard mode tries a throttled, 5xx or timed-out call at most 3 times, with its
    // own jittered backoff, within one reconcile attempt (at most 30 s per call); the attempt
    // then fails and the operator's Backoff waits before the next one. So a failing call is
    // made at most 3 times per operator attempt, and attempts are spaced up to 5 minutes apart:
    // the two layers add up, they do not multiply. Adaptive mode would also rate-limit on the
    // client, holding reconcile threads; legacy mode tries 4 times.
    List<ExecutionInterceptor> interceptors = new java.util.ArrayList<>();
    limit.ifPresent(interceptors::add); // first: a request waits for its permit before the rest
    interceptors.addAll(settings.interceptors());
    return ClientOverrideConfiguration.builder()
        .retryStrategy(RetryMode.STANDARD)
        .apiCallTimeout(Duration.ofSeconds(30))
        .apiCallAttemptTimeout(Duration.ofSeconds(10))
        .executionInterceptors(interceptors)
        .build();
  }

  @Override
  public void close() {
    baseSts.close();
  }
}
