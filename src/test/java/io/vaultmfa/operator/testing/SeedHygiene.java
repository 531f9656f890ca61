package io.vaultmfa.operator.testing;

import static org.assertj.core.api.Assertions.fail;

import java.util.Collection;
import java.util.Locale;

/**
 * Fails when any seed appears in a text, in any case, with or without Base32 padding or whitespace
 * between its characters. The failure message names where, never the seed.
 */
public final class SeedHygiene {

  private SeedHygiene() {}

  public static void assertNoSeed(String where, String text, Collection<String> seeds) {
    if (text == null || text.isEmpty()) {
      return;
    }
    String haystack = squash(text);
    for (String seed : seeds) {
      String needle = squash(seed).replace("=", "");
      if (needle.length() >= 16 && haystack.contains(needle)) {
        fail("a device seed appears in " + where);
      }
    }
  }

  /** What a person with read access to the cluster sees: Events, bindings, Secrets. */
  public static void assertNoSeedInCluster(
      io.fabric8.kubernetes.client.KubernetesClient client, Collection<String> seeds) {
    assertNoSeed("Events", asJson(client.v1().events().inAnyNamespace().list()), seeds);
    assertNoSeed(
        "bindings",
        asJson(
            client.resources(io.vaultmfa.operator.api.AwsMfaBinding.class).inAnyNamespace().list()),
        seeds);
    assertNoSeed("Secrets", asJson(client.secrets().inAnyNamespace().list()), seeds);
  }

  private static String asJson(Object o) {
    return io.fabric8.kubernetes.client.utils.Serialization.asJson(o);
  }

  private static String squash(String s) {
    return s.replaceAll("\\s+", "").toUpperCase(Locale.ROOT);
  }
}
