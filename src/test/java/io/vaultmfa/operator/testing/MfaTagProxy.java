package io.vaultmfa.operator.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;

/**
 * A loopback HTTP proxy in front of moto that adds what moto 5.2.5 lacks and real IAM has: tags
 * on virtual MFA devices. moto drops the {@code Tags} of {@code CreateVirtualMFADevice} and
 * answers {@code ListMFADeviceTags} with HTTP 500, so without this the operator's ownership
 * checks (invariant I4, case K07) cannot be exercised at all. Everything else is forwarded to moto
 * unchanged. The proxy keeps tags by serial number, forgets them when the device is deleted, and
 * answers {@code NoSuchEntity} for a serial moto does not know, as IAM does. It never logs a
 * request or an answer (answers to {@code CreateVirtualMFADevice} carry seeds).
 */
public final class MfaTagProxy implements AutoCloseable {

  private static final StaticCredentialsProvider CREDS =
      StaticCredentialsProvider.create(AwsBasicCredentials.create("testing", "testing"));
  private static final Pattern SERIAL = Pattern.compile("<SerialNumber>([^<]+)</SerialNumber>");
  private static final Set<String> RESTRICTED =
      Set.of("host", "connection", "content-length", "expect", "upgrade", "transfer-encoding");
  private static final String NS = "https://iam.amazonaws.com/doc/2010-05-08/";

  private final URI upstream;
  private final HttpServer server;
  private final ExecutorService pool;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final Map<String, Map<String, String>> tags = new ConcurrentHashMap<>();
  private final List<IamClient> clients = new ArrayList<>();

  private MfaTagProxy(URI upstream) throws IOException {
    this.upstream = upstream;
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    this.pool = Executors.newFixedThreadPool(8, r -> {
      Thread t = new Thread(r, "mfa-tag-proxy");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(pool);
    server.createContext("/", this::handle);
    server.start();
  }

  public static MfaTagProxy start(URI moto) {
    try {
      return new MfaTagProxy(moto);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The endpoint to give AWS clients instead of moto's. */
  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  /** An IAM client for the test itself, through the proxy (so device tags work). */
  public synchronized IamClient iamClient() {
    IamClient c = IamClient.builder()
        .region(Region.AWS_GLOBAL)
        .endpointOverride(endpoint())
        .credentialsProvider(CREDS)
        .build();
    clients.add(c);
    return c;
  }

  @Override
  public synchronized void close() {
    clients.forEach(IamClient::close);
    server.stop(0);
    pool.shutdownNow();
  }

  // ---- the proxy

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      byte[] body = readAll(ex.getRequestBody());
      Map<String, List<String>> form = form(ex, body);
      String action = first(form, "Action");
      switch (action == null ? "" : action) {
        case "ListMFADeviceTags" -> listTags(ex, form);
        case "TagMFADevice" -> tag(ex, form);
        case "UntagMFADevice" -> untag(ex, form);
        default -> forward(ex, body, action, form);
      }
    } catch (RuntimeException | IOException e) {
      // Answer as a server error, without details (a request could carry anything).
      try {
        ex.sendResponseHeaders(500, -1);
      } catch (IOException ignored) {
        // The response was already started.
      }
    }
  }

  private void listTags(HttpExchange ex, Map<String, List<String>> form) throws IOException {
    String serial = first(form, "SerialNumber");
    if (!exists(ex, serial)) {
      noSuchEntity(ex, serial);
      return;
    }
    StringBuilder b = new StringBuilder();
    tags.getOrDefault(serial, Map.of()).forEach((k, v) -> b.append("<member><Key>")
        .append(xml(k)).append("</Key><Value>").append(xml(v)).append("</Value></member>"));
    ok(ex, "ListMFADeviceTags",
        "<IsTruncated>false</IsTruncated><Tags>" + b + "</Tags>");
  }

  private void tag(HttpExchange ex, Map<String, List<String>> form) throws IOException {
    String serial = first(form, "SerialNumber");
    if (!exists(ex, serial)) {
      noSuchEntity(ex, serial);
      return;
    }
    tags.computeIfAbsent(serial, s -> new ConcurrentHashMap<>()).putAll(tagsOf(form));
    ok(ex, "TagMFADevice", "");
  }

  private void untag(HttpExchange ex, Map<String, List<String>> form) throws IOException {
    String serial = first(form, "SerialNumber");
    if (!exists(ex, serial)) {
      noSuchEntity(ex, serial);
      return;
    }
    Map<String, String> t = tags.get(serial);
    if (t != null) {
      for (int i = 1; first(form, "TagKeys.member." + i) != null; i++) {
        t.remove(first(form, "TagKeys.member." + i));
      }
    }
    ok(ex, "UntagMFADevice", "");
  }

  private void forward(HttpExchange ex, byte[] body, String action,
      Map<String, List<String>> form) throws IOException {
    HttpResponse<byte[]> r = send(ex, ex.getRequestMethod(), body);
    if (r.statusCode() / 100 == 2 && "CreateVirtualMFADevice".equals(action)) {
      Matcher m = SERIAL.matcher(new String(r.body(), StandardCharsets.UTF_8));
      if (m.find()) {
        tags.put(m.group(1), new ConcurrentHashMap<>(tagsOf(form)));
      }
    }
    if (r.statusCode() / 100 == 2 && "DeleteVirtualMFADevice".equals(action)) {
      tags.remove(first(form, "SerialNumber"));
    }
    r.headers().map().forEach((k, v) -> {
      if (!RESTRICTED.contains(k.toLowerCase(Locale.ROOT)) && !k.startsWith(":")) {
        ex.getResponseHeaders().put(k, v);
      }
    });
    ex.sendResponseHeaders(r.statusCode(), r.body().length == 0 ? -1 : r.body().length);
    if (r.body().length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(r.body());
      }
    }
  }

  /** Whether moto knows this virtual device (only serials are read from its answer). */
  private boolean exists(HttpExchange ex, String serial) throws IOException {
    if (serial == null) {
      return false;
    }
    String marker = null;
    do {
      String q = "Action=ListVirtualMFADevices&Version=2010-05-08&AssignmentStatus=Any"
          + (marker == null ? "" : "&Marker=" + marker);
      HttpResponse<byte[]> r = send(ex, "POST", q.getBytes(StandardCharsets.UTF_8));
      String text = new String(r.body(), StandardCharsets.UTF_8);
      Matcher m = SERIAL.matcher(text);
      while (m.find()) {
        if (m.group(1).equals(serial)) {
          return true;
        }
      }
      Matcher next = Pattern.compile("<Marker>([^<]+)</Marker>").matcher(text);
      marker = text.contains("<IsTruncated>true</IsTruncated>") && next.find()
          ? next.group(1) : null;
    } while (marker != null);
    return false;
  }

  private HttpResponse<byte[]> send(HttpExchange ex, String method, byte[] body)
      throws IOException {
    URI target = upstream.resolve(ex.getRequestURI().getRawPath()
        + (ex.getRequestURI().getRawQuery() == null ? "" : "?" + ex.getRequestURI().getRawQuery()));
    HttpRequest.Builder b = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(30))
        .method(method, HttpRequest.BodyPublishers.ofByteArray(body));
    ex.getRequestHeaders().forEach((k, v) -> {
      if (!RESTRICTED.contains(k.toLowerCase(Locale.ROOT))) {
        v.forEach(x -> b.header(k, x));
      }
    });
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private static void ok(HttpExchange ex, String action, String result) throws IOException {
    String xml = "<" + action + "Response xmlns=\"" + NS + "\">"
        + (result.isEmpty() ? "" : "<" + action + "Result>" + result + "</" + action + "Result>")
        + "<ResponseMetadata><RequestId>" + UUID.randomUUID() + "</RequestId></ResponseMetadata>"
        + "</" + action + "Response>";
    respond(ex, 200, xml);
  }

  private static void noSuchEntity(HttpExchange ex, String serial) throws IOException {
    respond(ex, 404, "<ErrorResponse xmlns=\"" + NS + "\"><Error><Type>Sender</Type>"
        + "<Code>NoSuchEntity</Code><Message>MFA device " + xml(String.valueOf(serial))
        + " not found</Message></Error><RequestId>" + UUID.randomUUID() + "</RequestId>"
        + "</ErrorResponse>");
  }

  private static void respond(HttpExchange ex, int status, String xml) throws IOException {
    byte[] b = xml.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/xml");
    ex.sendResponseHeaders(status, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
  }

  private static Map<String, String> tagsOf(Map<String, List<String>> form) {
    Map<String, String> t = new LinkedHashMap<>();
    for (int i = 1; first(form, "Tags.member." + i + ".Key") != null; i++) {
      String v = first(form, "Tags.member." + i + ".Value");
      t.put(first(form, "Tags.member." + i + ".Key"), v == null ? "" : v);
    }
    return t;
  }

  private static Map<String, List<String>> form(HttpExchange ex, byte[] body) {
    Map<String, List<String>> m = new LinkedHashMap<>();
    String q = ex.getRequestURI().getRawQuery();
    String text = (q == null ? "" : q + "&") + new String(body, StandardCharsets.UTF_8);
    for (String pair : text.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      m.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
    }
    return m;
  }

  private static String first(Map<String, List<String>> form, String key) {
    List<String> v = form.get(key);
    return v == null || v.isEmpty() ? null : v.get(0);
  }

  private static String xml(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  private static byte[] readAll(InputStream in) throws IOException {
    try (in) {
      return in.readAllBytes();
    }
  }
}
