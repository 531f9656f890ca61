package io.vaultmfa.operator.vault;

import io.vaultmfa.operator.config.OperatorConfig;
import io.vaultmfa.operator.config.Setting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import org.apache.hc.client5.http.impl.DefaultHttpRequestRetryStrategy;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.util.TimeValue;
import org.springframework.core.io.FileSystemResource;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.HttpComponentsClientHttpRequestFactory;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.vault.authentication.ClientAuthentication;
import org.springframework.vault.authentication.KubernetesAuthentication;
import org.springframework.vault.authentication.KubernetesAuthenticationOptions;
import org.springframework.vault.authentication.KubernetesServiceAccountTokenFile;
import org.springframework.vault.authentication.LifecycleAwareSessionManager;
import org.springframework.vault.authentication.SessionManager;
import org.springframework.vault.authentication.TokenAuthentication;
import org.springframework.vault.client.ClientHttpRequestFactoryFactory;
import org.springframework.vault.client.RestTemplateBuilder;
import org.springframework.vault.client.VaultEndpoint;
import org.springframework.vault.core.VaultTemplate;
import org.springframework.vault.support.ClientOptions;
import org.springframework.vault.support.SslConfiguration;

/** Builds the Vault client from the operator's settings: address, TLS CA, namespace, login. */
public final class VaultClients {

  private VaultClients() {}

  public static VaultTemplate template(OperatorConfig config) {
    VaultEndpoint endpoint = VaultEndpoint.from(config.uri(Setting.VAULT_ADDRESS));
    SslConfiguration ssl =
        config
            .optional(Setting.VAULT_CA_CERT)
            .map(
                pem ->
                    SslConfiguration.forTrustStore(
                        SslConfiguration.KeyStoreConfiguration.of(new FileSystemResource(pem))
                            .withStoreType("PEM")))
            .orElseGet(SslConfiguration::unconfigured);
    ClientHttpRequestFactory http =
        httpClient(new ClientOptions(Duration.ofSeconds(5), Duration.ofSeconds(15)), ssl);
    RestTemplateBuilder rest =
        RestTemplateBuilder.builder().endpoint(endpoint).requestFactory(http);
    config
        .optional(Setting.VAULT_NAMESPACE)
        .ifPresent(ns -> rest.defaultHeader("X-Vault-Namespace", ns));

    ClientAuthentication auth;
    if (config.get(Setting.VAULT_AUTH).equals("kubernetes")) {
      auth =
          new KubernetesAuthentication(
              KubernetesAuthenticationOptions.builder()
                  .role(config.get(Setting.VAULT_K8S_ROLE))
                  .path(config.get(Setting.VAULT_K8S_MOUNT))
                  .jwtSupplier(
                      new KubernetesServiceAccountTokenFile(config.get(Setting.VAULT_K8S_JWT_FILE)))
                  .build(),
              rest.build());
    } else {
      auth = new TokenAuthentication(token(config));
    }
    ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
    scheduler.setThreadNamePrefix("vault-session-");
    scheduler.setDaemon(true);
    scheduler.initialize();
    SessionManager sessions = new LifecycleAwareSessionManager(auth, scheduler, rest.build());
    return new VaultTemplate(rest, sessions);
  }

  /**
   * Apache HttpClient 5 with spring-vault's settings (5 s to connect, 15 s to read, TLS) and one
   * change: it tries an idempotent request once more at once when the connection broke (a pooled
   * connection the server closed), but never repeats a call because of its HTTP status. A sealed,
   * throttling or failing Vault is retried by the operator's backoff, not inside one attempt.
   */
  private static ClientHttpRequestFactory httpClient(ClientOptions options, SslConfiguration ssl) {
    HttpClientBuilder builder;
    try {
      builder = ClientHttpRequestFactoryFactory.HttpComponents.getHttpClientBuilder(options, ssl);
    } catch (GeneralSecurityException | IOException e) {
      throw new io.vaultmfa.operator.config.ConfigException(
          "cannot set up TLS for Vault (vault.caCert): " + e.getClass().getSimpleName());
    }
    builder.setRetryStrategy(
        new DefaultHttpRequestRetryStrategy(1, TimeValue.ofSeconds(1)) {
          @Override
          public boolean retryRequest(HttpResponse response, int execCount, HttpContext context) {
            return false;
          }
        });
    return new HttpComponentsClientHttpRequestFactory(builder.build());
  }

  private static String token(OperatorConfig config) {
    return config
        .optional(Setting.VAULT_TOKEN_FILE)
        .map(
            f -> {
              try {
                return Files.readString(Path.of(f)).trim();
              } catch (IOException e) {
                throw new io.vaultmfa.operator.config.ConfigException(
                    "cannot read vault.tokenFile " + f + ": " + e.getMessage());
              }
            })
        .orElseGet(() -> config.get(Setting.VAULT_TOKEN));
  }
}
