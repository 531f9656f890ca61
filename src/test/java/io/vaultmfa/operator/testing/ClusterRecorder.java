package io.vaultmfa.operator.testing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.vaultmfa.operator.api.AwsMfaBinding;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Keeps every version of every binding (with its status), Secret and Event the cluster held while a
 * test ran, deleted ones included, so that the seed check (invariant I2) also sees a condition
 * message that was replaced, a Secret that was deleted, or an Event of a binding that is gone.
 */
public final class ClusterRecorder implements AutoCloseable {

  private final List<String> bindings = new CopyOnWriteArrayList<>();
  private final List<String> events = new CopyOnWriteArrayList<>();
  private final List<Secret> secrets = new CopyOnWriteArrayList<>();
  private final List<SharedIndexInformer<?>> informers;

  private ClusterRecorder(KubernetesClient client) {
    informers =
        List.of(
            client
                .resources(AwsMfaBinding.class)
                .inAnyNamespace()
                .inform(handler(b -> bindings.add(Serialization.asJson(b)))),
            client.v1().events().inAnyNamespace().inform(handler(e -> events.add(json(e)))),
            client.secrets().inAnyNamespace().inform(handler(secrets::add)));
  }

  /** Starts watching with {@code client}, which must be allowed to list and watch all three. */
  public static ClusterRecorder start(KubernetesClient client) {
    return new ClusterRecorder(client);
  }

  /** Fails when a seed is in any version of any binding, Event or Secret seen so far. */
  public void assertNoSeed(Collection<String> seeds) {
    SeedHygiene.assertNoSeed("a version of a binding", String.join("\n", bindings), seeds);
    SeedHygiene.assertNoSeed("a version of an Event", String.join("\n", events), seeds);
    for (Secret s : secrets) {
      SeedHygiene.assertNoSeedInSecret(s, seeds);
    }
  }

  /** How many object versions were recorded; a check over nothing proves nothing. */
  public int versions() {
    return bindings.size() + events.size() + secrets.size();
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
  }

  private static String json(HasMetadata o) {
    return Serialization.asJson(o);
  }

  private static <T> ResourceEventHandler<T> handler(java.util.function.Consumer<T> keep) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        keep.accept(obj);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        keep.accept(newObj);
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        keep.accept(obj);
      }
    };
  }
}
