package io.vaultmfa.operator.iam;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Invariant I4: what the operator owns carries both this binding's uid and this cluster's id. */
class OwnershipTest {

  final Ownership ours = new Ownership("cluster-a", "uid-1", "ns/name");

  @Test
  void ownsWhatCarriesItsClusterAndUid() {
    assertThat(ours.owns(ours.tags())).isTrue();
  }

  @Test
  void theSameUidFromAnotherClusterIsNotOurs() {
    assertThat(ours.owns(new Ownership("cluster-b", "uid-1", "ns/name").tags())).isFalse();
  }

  @Test
  void anotherBindingOfTheSameClusterIsNotOurs() {
    assertThat(ours.owns(new Ownership("cluster-a", "uid-2", "ns/name").tags())).isFalse();
    assertThat(Ownership.managed(new Ownership("cluster-a", "uid-2", "ns/name").tags())).isTrue();
  }

  @Test
  void untaggedOrPartlyTaggedIsNotOurs() {
    assertThat(ours.owns(Map.of())).isFalse();
    assertThat(ours.owns(Map.of(Ownership.UID_TAG, "uid-1"))).isFalse();
    assertThat(ours.owns(Map.of(Ownership.CLUSTER_TAG, "cluster-a"))).isFalse();
    assertThat(Ownership.managed(Map.of("owner", "alice"))).isFalse();
  }
}
