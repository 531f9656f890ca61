package io.vaultmfa.operator.testing;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.common.Slf4jNotifier;
import com.github.tomakehurst.wiremock.matching.RequestPatternBuilder;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpRequest;

/**
 * A WireMock proxy in front of a real server (OpenBao, moto) on a fixed loopback port. Every
 * request is passed through unless a fault stubbed with {@link #inject} matches it first; the proxy
 * keeps a journal of every request it saw, so tests can count the operator's calls while a fault
 * holds. {@link #stop()} and {@link #start()} make the server unreachable and back.
 */
public final class FaultProxy implements AutoCloseable {

  private static final int FAULT = 1;
  private static final int PASS_THROUGH = 10;

  private final WireMockServer server;
  private final String target;

  private FaultProxy(String target) {
    this.target = target;
    this.server =
        new WireMockServer(
            options()
                .bindAddress("127.0.0.1")
                .port(LocalProcess.freePort())
                .notifier(new Slf4jNotifier(false)));
    server.start();
    passThrough();
  }

  /**
   * Starts a proxy that passes everything to {@code target}, e.g. {@code http://127.0.0.1:8200}.
   */
  public static FaultProxy inFrontOf(String target) {
    return new FaultProxy(target);
  }

  /** The address clients are given instead of the real server's. */
  public String address() {
    return "http://127.0.0.1:" + server.port();
  }

  /**
   * An SDK interceptor that sends the operator's AWS requests here instead of to their endpoint, so
   * that only the operator's calls (not the test's own) go through the proxy.
   */
  public ExecutionInterceptor awsRoute() {
    int port = server.port();
    return new ExecutionInterceptor() {
      @Override
      public SdkHttpRequest modifyHttpRequest(
          Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
        return context.httpRequest().toBuilder()
            .protocol("http")
            .host("127.0.0.1")
            .port(port)
            .build();
      }
    };
  }

  /** Answers requests matching {@code fault} as it says, instead of passing them on. */
  public StubMapping inject(MappingBuilder fault) {
    return server.stubFor(fault.atPriority(FAULT));
  }

  /** Removes every injected fault: the proxy passes everything through again. */
  public void heal() {
    server.resetMappings();
    passThrough();
  }

  /** Every request the proxy saw that matches, oldest first. */
  public List<LoggedRequest> seen(RequestPatternBuilder pattern) {
    return server.findAll(pattern).stream()
        .sorted(Comparator.comparing(LoggedRequest::getLoggedDate))
        .toList();
  }

  /** When each matching request arrived, oldest first. */
  public List<Instant> times(RequestPatternBuilder pattern) {
    return seen(pattern).stream().map(r -> r.getLoggedDate().toInstant()).toList();
  }

  public int count(RequestPatternBuilder pattern) {
    return server.findAll(pattern).size();
  }

  /** The port closes: connections are refused, as when the server is down. */
  public void stop() {
    server.stop();
  }

  /** Listens again on the same port. */
  public void start() {
    server.start();
  }

  @Override
  public void close() {
    server.stop();
  }

  private void passThrough() {
    MappingBuilder all = any(anyUrl()).atPriority(PASS_THROUGH);
    server.stubFor(all.willReturn(aResponse().proxiedFrom(target)));
  }
}
