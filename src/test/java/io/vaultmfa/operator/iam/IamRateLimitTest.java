package io.vaultmfa.operator.iam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.resilience4j.ratelimiter.RateLimiter;
import io.vaultmfa.operator.config.ConfigException;
import io.vaultmfa.operator.config.OperatorConfig;
import io.vaultmfa.operator.config.Setting;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.AbortableInputStream;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;

/**
 * aws.iamRequestsPerSecond: each HTTP attempt to IAM takes a permit. The IAM client here is the
 * real SDK client with the operator's interceptor, in front of an HTTP client that answers in
 * memory; the limiter's clock is a field the test moves, so nothing here depends on timing.
 */
class IamRateLimitTest {

  private static final String DELETED =
      "<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
          + "<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DeleteUserResponse>";
  private static final String FAILED =
      "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>"
          + "<Type>Receiver</Type><Code>ServiceFailure</Code><Message>try again</Message>"
          + "</Error><RequestId>2</RequestId></ErrorResponse>";

  private long nanos = 1_000_000_000L;
  private final List<String> sent = new ArrayList<>();
  private final Deque<Integer> answers = new ArrayDeque<>();
  private IamClient client;

  /** A client limited to {@code perSecond}, refusing at once (not waiting) when out of permits. */
  private IamClient limitedTo(int perSecond) {
    RateLimiter limiter =
        RateLimiter.of("iam", IamRateLimit.config(perSecond, Duration.ZERO), () -> nanos);
    client =
        IamClient.builder()
            .region(Region.AWS_GLOBAL)
            .endpointOverride(URI.create("http://iam.example.invalid"))
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("id", "secret")))
            .httpClient(new InMemoryIam())
            .overrideConfiguration(
                c ->
                    c.retryStrategy(RetryMode.STANDARD)
                        .addExecutionInterceptor(new IamRateLimit(limiter, perSecond)))
            .build();
    return client;
  }

  @AfterEach
  void close() {
    if (client != null) {
      client.close();
    }
  }

  @Test
  void sendsOneRequestEveryOneOverTheRate() {
    IamClient iam = limitedTo(2);

    iam.deleteUser(r -> r.userName("a"));
    assertThatThrownBy(() -> iam.deleteUser(r -> r.userName("b")))
        .isInstanceOf(SdkClientException.class)
        .hasMessageContaining("aws.iamRequestsPerSecond is 2");
    assertThat(sent).as("the second request never left the operator").hasSize(1);

    nanos += Duration.ofMillis(499).toNanos();
    assertThatThrownBy(() -> iam.deleteUser(r -> r.userName("b")))
        .isInstanceOf(SdkClientException.class);
    nanos += Duration.ofMillis(1).toNanos();
    iam.deleteUser(r -> r.userName("b"));
    assertThat(sent).hasSize(2);
  }

  @Test
  void aRetryTakesAPermitToo() {
    IamClient iam = limitedTo(2);
    answers.add(500); // IAM fails the first attempt, half a second passes, the SDK retries

    iam.deleteUser(r -> r.userName("a"));

    assertThat(sent).as("one call, two attempts").hasSize(2);
    assertThatThrownBy(() -> iam.deleteUser(r -> r.userName("b")))
        .as("the retry took the permit of the second half-second")
        .isInstanceOf(SdkClientException.class);
    assertThat(sent).hasSize(2);
  }

  @Test
  void zeroMeansNoLimit() {
    assertThat(IamRateLimit.perSecond(0)).isEmpty();
    assertThat(IamRateLimit.perSecond(10)).isPresent();
    assertThat(OperatorConfig.of(required()).iamRequestsPerSecond()).isZero();
  }

  @Test
  void aBadSettingNamesTheKeyAndTheRule() {
    Map<Setting, String> s = required();
    s.put(Setting.AWS_IAM_RPS, "-1");
    assertThatThrownBy(() -> OperatorConfig.of(s))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("aws.iamRequestsPerSecond")
        .hasMessageContaining("VAULTMFA_AWS_IAM_RPS")
        .hasMessageContaining("must be at least 0");
    s.put(Setting.AWS_IAM_RPS, "10.5");
    assertThatThrownBy(() -> OperatorConfig.of(s)).hasMessageContaining("must be a whole number");
    s.put(Setting.AWS_IAM_RPS, "10");
    assertThat(OperatorConfig.of(s).iamRequestsPerSecond()).isEqualTo(10);
  }

  private static Map<Setting, String> required() {
    Map<Setting, String> s = new java.util.EnumMap<>(Setting.class);
    s.put(Setting.CLUSTER_ID, "c");
    s.put(Setting.VAULT_ADDRESS, "http://127.0.0.1:8200");
    s.put(Setting.VAULT_TOKEN, "t");
    return s;
  }

  /** Answers each request with the next queued status (200 when none), as IAM would. */
  private final class InMemoryIam implements SdkHttpClient {
    @Override
    public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
      return new ExecutableHttpRequest() {
        @Override
        public HttpExecuteResponse call() {
          sent.add(request.httpRequest().getUri().toString());
          int status = Optional.ofNullable(answers.poll()).orElse(200);
          if (status != 200) {
            nanos += Duration.ofMillis(500).toNanos();
          }
          byte[] body = (status == 200 ? DELETED : FAILED).getBytes(StandardCharsets.UTF_8);
          return HttpExecuteResponse.builder()
              .response(
                  SdkHttpResponse.builder()
                      .statusCode(status)
                      .putHeader("Content-Type", "text/xml")
                      .putHeader("Content-Length", String.valueOf(body.length))
                      .build())
              .responseBody(AbortableInputStream.create(new ByteArrayInputStream(body)))
              .build();
        }

        @Override
        public void abort() {}
      };
    }

    @Override
    public void close() {}
  }
}
