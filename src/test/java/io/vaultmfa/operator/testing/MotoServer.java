package io.vaultmfa.operator.testing;

import io.vaultmfa.operator.iam.IamProvider;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;

/** moto in server mode ({@code moto_server}) on a free loopback port: an AWS API emulator. */
public final class MotoServer implements AutoCloseable {

  private static final Duration STARTUP = Duration.ofSeconds(60);

  /** The account id moto gives every resource unless told otherwise. */
  public static final String ACCOUNT = "123456789012";

  private final LocalProcess process;
  private final URI endpoint;

  private MotoServer(LocalProcess process, URI endpoint) {
    this.process = process;
    this.endpoint = endpoint;
  }

  /** Starts the server and waits until it answers HTTP. */
  public static MotoServer start() {
    int port = LocalProcess.freePort();
    LocalProcess process =
        LocalProcess.start(
            "moto_server", "moto-" + port + ".log", "-H", "127.0.0.1", "-p", String.valueOf(port));
    MotoServer server = new MotoServer(process, URI.create("http://127.0.0.1:" + port));
    try {
      process.awaitReady(STARTUP, server::answers);
      return server;
    } catch (RuntimeException e) {
      process.close();
      throw e;
    }
  }

  /** The endpoint to give every AWS client, e.g. {@code http://127.0.0.1:41234}. */
  public URI endpoint() {
    return endpoint;
  }

  /** moto takes any credentials; every client of it here uses these. */
  public static final AwsCredentialsProvider CREDENTIALS =
      StaticCredentialsProvider.create(AwsBasicCredentials.create("testing", "testing"));

  /** An IAM client for tests to arrange and look at what the operator sees. */
  public IamClient iamClient() {
    return IamClient.builder()
        .region(Region.AWS_GLOBAL)
        .endpointOverride(endpoint)
        .credentialsProvider(CREDENTIALS)
        .build();
  }

  /** How the operator reaches moto for IAM and STS, with these interceptors at its boundary. */
  public IamProvider.Settings operatorSettings(List<ExecutionInterceptor> interceptors) {
    return new IamProvider.Settings(
        Region.US_EAST_1, Optional.of(endpoint), Optional.of(endpoint), CREDENTIALS, interceptors);
  }

  /** Forgets every resource in every emulated service. */
  public void reset() {
    HttpRequest request =
        HttpRequest.newBuilder(endpoint.resolve("/moto-api/reset"))
            .timeout(Duration.ofSeconds(10))
            .POST(BodyPublishers.noBody())
            .build();
    int status = LocalProcess.send(request, BodyHandlers.discarding()).statusCode();
    if (status != 200) {
      throw new IllegalStateException("moto reset answered HTTP " + status);
    }
  }

  @Override
  public void close() {
    process.close();
  }

  private boolean answers() {
    HttpRequest request =
        HttpRequest.newBuilder(endpoint.resolve("/moto-api/"))
            .timeout(Duration.ofSeconds(2))
            .build();
    try {
      LocalProcess.send(request, BodyHandlers.discarding());
      return true;
    } catch (UncheckedIOException e) {
      return false;
    }
  }
}
