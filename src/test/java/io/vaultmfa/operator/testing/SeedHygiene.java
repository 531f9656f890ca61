package io.vaultmfa.operator.testing;

import static org.assertj.core.api.Assertions.fail;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.vaultmfa.operator.api.AwsMfaBinding;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.apache.commons.codec.binary.Base32;

/**
 * Invariant I2: fails when any seed appears in a text. The seed is looked for as Base32 text in any
 * case, with or without {@code =} padding, with whitespace between its characters; as the Base64 of
 * that text (a Secret's data) and as the key bytes it stands for, in hex and in Base64 (standard or
 * URL-safe). The failure message names where, never the seed.
 */
public final class SeedHygiene {

  /** Shorter needles could match by chance; a real seed is 16 Base32 characters or more. */
  private static final int MIN_NEEDLE = 16;

  private SeedHygiene() {}

  public static void assertNoSeed(String where, String text, Collection<String> seeds) {
    if (text == null || text.isEmpty()) {
      return;
    }
    String haystack = squash(text);
    for (String seed : seeds) {
      for (String needle : needles(seed)) {
        if (haystack.contains(needle)) {
          fail("a device seed appears in " + where);
        }
      }
    }
  }

  /**
   * What a person with read access to the cluster sees now: Events, bindings (with their status)
   * and Secrets, the Secrets' data also decoded. {@link ClusterRecorder} keeps what was there
   * earlier.
   */
  public static void assertNoSeedInCluster(KubernetesClient client, Collection<String> seeds) {
    assertNoSeed(
        "Events", Serialization.asJson(client.v1().events().inAnyNamespace().list()), seeds);
    assertNoSeed(
        "bindings",
        Serialization.asJson(client.resources(AwsMfaBinding.class).inAnyNamespace().list()),
        seeds);
    for (Secret s : client.secrets().inAnyNamespace().list().getItems()) {
      assertNoSeedInSecret(s, seeds);
    }
  }

  /** A Secret as stored (Base64 data) and decoded. */
  public static void assertNoSeedInSecret(Secret s, Collection<String> seeds) {
    String where = "Secret " + s.getMetadata().getNamespace() + "/" + s.getMetadata().getName();
    assertNoSeed(where, Serialization.asJson(s), seeds);
    assertNoSeed(where + " (decoded)", decoded(s), seeds);
  }

  /** The logs a control plane keeps (apiserver, controller-manager, etcd). */
  public static void assertNoSeedInControlPlaneLogs(KubeControlPlane cp, Collection<String> seeds) {
    for (String log : List.of("kube-apiserver.log", "kube-controller-manager.log", "etcd.log")) {
      Path file = cp.dir().resolve(log);
      if (Files.exists(file)) {
        try {
          assertNoSeed(log, Files.readString(file, StandardCharsets.ISO_8859_1), seeds);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
  }

  /** Every form of a seed looked for, squashed like the text. */
  static List<String> needles(String seed) {
    List<String> n = new ArrayList<>();
    String text = squash(seed).replace("=", "");
    if (text.length() < MIN_NEEDLE) {
      return n;
    }
    n.add(text);
    byte[] ascii = text.getBytes(StandardCharsets.US_ASCII);
    n.add(base64(ascii));
    n.add(base64(ascii, 1));
    n.add(base64(ascii, 2));
    byte[] key = new Base32().decode(text);
    if (key.length > 0) {
      n.add(HexFormat.of().formatHex(key));
      n.add(base64(key));
      n.add(squash(Base64.getUrlEncoder().withoutPadding().encodeToString(key)));
    }
    return n.stream().map(SeedHygiene::squash).map(s -> s.replace("=", "")).toList();
  }

  /** Base64 of {@code bytes}, without the characters that depend on what surrounds them. */
  private static String base64(byte[] bytes) {
    return base64(bytes, 0);
  }

  /**
   * The part of the Base64 of {@code bytes} that is the same whatever precedes them, when {@code
   * offset} bytes (mod 3) precede them: the text of a Secret value that starts with anything else.
   */
  private static String base64(byte[] bytes, int offset) {
    byte[] padded = new byte[offset + bytes.length];
    System.arraycopy(bytes, 0, padded, offset, bytes.length);
    String b64 = Base64.getEncoder().withoutPadding().encodeToString(padded);
    // Each prefix byte touches the first 2 characters; the last group depends on what follows.
    int from = offset == 0 ? 0 : (offset == 1 ? 2 : 3);
    int to = ((padded.length / 3) * 4);
    return to > from ? b64.substring(from, to) : "";
  }

  private static String decoded(Secret s) {
    StringBuilder b = new StringBuilder();
    if (s.getData() != null) {
      for (String v : s.getData().values()) {
        try {
          b.append(new String(Base64.getDecoder().decode(v), StandardCharsets.ISO_8859_1));
        } catch (IllegalArgumentException e) {
          b.append(v);
        }
        b.append('\n');
      }
    }
    if (s.getStringData() != null) {
      s.getStringData().values().forEach(v -> b.append(v).append('\n'));
    }
    return b.toString();
  }

  private static String squash(String s) {
    return s.replaceAll("\\s+", "").toUpperCase(Locale.ROOT);
  }
}
