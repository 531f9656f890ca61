package io.vaultmfa.operator.vault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vaultmfa.operator.metrics.OutsideCalls;
import io.vaultmfa.operator.outside.Outcome;
import io.vaultmfa.operator.outside.OutsideCallException;
import io.vaultmfa.operator.totp.Seed;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatusCode;
import org.springframework.vault.VaultException;
import org.springframework.vault.authentication.VaultLoginException;
import org.springframework.vault.authentication.VaultSessionManagerException;
import org.springframework.vault.core.VaultOperations;
import org.springframework.web.client.HttpStatusCodeException;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClientException;
import org.springframework.web.client.RestOperations;

/**
 * Vault's TOTP secrets engine, in its own words: write, read and delete a key, read a code. Knows
 * nothing of Kubernetes. Keys are always written as SHA1, 6 digits, 30 seconds: the only parameters
 * AWS virtual MFA devices use.
 */
public class TotpEngine {

  static final String SYSTEM = "vault";
  public static final String ALGORITHM = "SHA1";
  public static final int DIGITS = 6;
  public static final int PERIOD = 30;

  private static final ParameterizedTypeReference<Map<String, Object>> JSON_MAP =
      new ParameterizedTypeReference<>() {};
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final VaultOperations vault;
  private final OutsideCalls calls;

  public TotpEngine(VaultOperations vault, OutsideCalls calls) {
    this.vault = vault;
    this.calls = calls;
  }

  /** The path workloads read codes from, e.g. {@code totp/code/aws}. */
  public static String codePath(String mount, String key) {
    return mount + "/code/" + key;
  }

  /** Writes (or overwrites) the key with the seed IAM issued. */
  public void writeKey(String mount, String key, Seed seed, String issuer, String accountName) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("key", seed.reveal());
    body.put("issuer", issuer);
    body.put("account_name", accountName);
    body.put("algorithm", ALGORITHM);
    body.put("digits", DIGITS);
    body.put("period", PERIOD);
    String path = mount + "/keys/" + key;
    try {
      call(
          "WriteKey",
          "write Vault key " + path,
          seed::scrub,
          rest -> {
            rest.exchange(path, HttpMethod.POST, new HttpEntity<>(body), JSON_MAP);
            return null;
          });
    } catch (OutsideCallException e) {
      if (e.hasCode("404")) {
        // A write answered 404 means no TOTP engine at this mount: asking again will not help.
        throw new OutsideCallException(
            SYSTEM,
            "write Vault key " + path,
            Outcome.INVALID,
            e.code(),
            "Vault has no TOTP secrets engine at " + mount + "/ (or refuses the key name)");
      }
      throw e;
    }
  }

  public Optional<TotpKey> readKey(String mount, String key) {
    String path = mount + "/keys/" + key;
    try {
      Map<String, Object> data =
          call(
              "ReadKey",
              "read Vault key " + path,
              s -> s,
              rest -> dataOf(rest.exchange(path, HttpMethod.GET, null, JSON_MAP).getBody()));
      return Optional.of(
          new TotpKey(
              str(data.get("account_name")),
              str(data.get("issuer")),
              str(data.get("algorithm")),
              num(data.get("digits")),
              num(data.get("period"))));
    } catch (OutsideCallException e) {
      if (e.is(Outcome.NOT_FOUND)) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** The code Vault gives for the current window. */
  public String code(String mount, String key) {
    String path = codePath(mount, key);
    return call(
        "ReadCode",
        "read Vault code " + path,
        s -> s,
        rest ->
            str(dataOf(rest.exchange(path, HttpMethod.GET, null, JSON_MAP).getBody()).get("code")));
  }

  /** Deletes the key; a key already gone counts as deleted. */
  public void deleteKey(String mount, String key) {
    String path = mount + "/keys/" + key;
    try {
      call(
          "DeleteKey",
          "delete Vault key " + path,
          s -> s,
          rest -> {
            rest.exchange(path, HttpMethod.DELETE, null, JSON_MAP);
            return null;
          });
    } catch (OutsideCallException e) {
      if (!e.is(Outcome.NOT_FOUND)) {
        throw e;
      }
    }
  }

  private <T> T call(
      String operation,
      String what,
      Function<String, String> scrub,
      Function<RestOperations, T> fn) {
    Supplier<T> guarded =
        () -> {
          try {
            return vault.doWithSession(fn::apply);
          } catch (RuntimeException e) {
            throw translate(what, scrub, e);
          }
        };
    return calls.record(SYSTEM, operation, guarded);
  }

  /**
   * Spring wraps HTTP errors in {@link VaultException}; the HTTP status underneath decides the
   * outcome. Login failures (refused role, expired token) are DENIED, an unreachable Vault is
   * RETRYABLE.
   */
  static OutsideCallException translate(
      String what, Function<String, String> scrub, RuntimeException e) {
    if (e instanceof VaultLoginException) {
      // Vault answers a login with an unknown role (or a JWT it cannot use) with 400, which
      // for a key request would mean a bad request: for a login it is a refusal.
      for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
        if (t instanceof HttpStatusCodeException h
            && h.getStatusCode().is4xxClientError()
            && h.getStatusCode().value() != 429) {
          return new OutsideCallException(
              SYSTEM,
              what,
              Outcome.DENIED,
              "LoginFailed",
              scrub.apply(h.getStatusCode().value() + ": " + errors(h.getResponseBodyAsString())));
        }
      }
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof HttpStatusCodeException h) {
        return classify(what, h.getStatusCode(), scrub.apply(errors(h.getResponseBodyAsString())));
      }
      if (t instanceof ResourceAccessException) {
        return new OutsideCallException(
            SYSTEM, what, Outcome.RETRYABLE, "Unreachable", scrub.apply(rootMessage(t)));
      }
    }
    if (e instanceof VaultLoginException || e instanceof VaultSessionManagerException) {
      return new OutsideCallException(
          SYSTEM, what, Outcome.DENIED, "LoginFailed", scrub.apply(e.getMessage()));
    }
    if (e instanceof VaultException || e instanceof RestClientException) {
      return new OutsideCallException(
          SYSTEM, what, Outcome.RETRYABLE, "", scrub.apply(e.getMessage()));
    }
    throw e;
  }

  static OutsideCallException classify(String what, HttpStatusCode status, String errors) {
    int s = status.value();
    Outcome o;
    if (s == 404 && !errors.isEmpty()) {
      // "unsupported path": the mount or the key name is wrong, not a key that is missing.
      o = Outcome.INVALID;
    } else if (s == 404) {
      o = Outcome.NOT_FOUND;
    } else if (s == 403 || s == 401) {
      o = Outcome.DENIED;
    } else if (s == 429) {
      o = Outcome.THROTTLED;
    } else if (s == 400 || s == 405) {
      o = Outcome.INVALID;
    } else {
      o = Outcome.RETRYABLE;
    }
    return new OutsideCallException(SYSTEM, what, o, String.valueOf(s), errors);
  }

  private static String errors(String body) {
    if (body == null || body.isBlank()) {
      return "";
    }
    try {
      JsonNode n = MAPPER.readTree(body).path("errors");
      if (n.isArray()) {
        StringBuilder b = new StringBuilder();
        n.forEach(e -> b.append(b.length() == 0 ? "" : "; ").append(e.asText()));
        return b.toString();
      }
    } catch (Exception ignored) {
      // Not JSON: fall through and show nothing of the body.
    }
    return "";
  }

  private static String rootMessage(Throwable t) {
    Throwable r = t;
    while (r.getCause() != null) {
      r = r.getCause();
    }
    return r.getClass().getSimpleName() + (r.getMessage() == null ? "" : ": " + r.getMessage());
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> dataOf(Map<String, Object> body) {
    Object d = body == null ? null : body.get("data");
    return d instanceof Map ? (Map<String, Object>) d : Map.of();
  }

  private static String str(Object o) {
    return o == null ? "" : o.toString();
  }

  private static int num(Object o) {
    return o instanceof Number n ? n.intValue() : 0;
  }
}
