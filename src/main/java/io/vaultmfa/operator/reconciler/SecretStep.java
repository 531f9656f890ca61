package io.vaultmfa.operator.reconciler;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.ConditionType;
import io.vaultmfa.operator.api.Reason;
import io.vaultmfa.operator.metrics.BindingMetrics;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Step 4: the output Secret. It holds pointers only, never the seed, under keys ready for {@code
 * envFrom}, and is owned by the binding so that it is collected with it.
 */
final class SecretStep {

  static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
  static final String MANAGED_BY = "vault-mfa-operator";

  static final String VAULT_ADDR = "VAULT_ADDR";
  static final String VAULT_TOTP_CODE_PATH = "VAULT_TOTP_CODE_PATH";
  static final String AWS_MFA_SERIAL_NUMBER = "AWS_MFA_SERIAL_NUMBER";
  static final String AWS_IAM_USER_NAME = "AWS_IAM_USER_NAME";
  static final String AWS_ACCOUNT_ID = "AWS_ACCOUNT_ID";

  private final KubernetesClient client;
  private final String vaultAddress;

  SecretStep(KubernetesClient client, String vaultAddress) {
    this.client = client;
    this.vaultAddress = vaultAddress;
  }

  /**
   * Creates or repairs the Secret; {@code owned} are the Secrets of this binding in the cache.
   * Writes only when what is there differs from what should be.
   */
  void ensure(Run run, Set<Secret> owned) {
    AwsMfaBinding b = run.binding();
    String ns = b.getMetadata().getNamespace();
    String name = run.desired().secretName();
    Map<String, String> data = data(run);
    try {
      Secret current =
          owned.stream()
              .filter(s -> name.equals(s.getMetadata().getName()))
              .findFirst()
              .orElse(null);
      if (current == null) {
        // The cache sees only Secrets with our label; one whose label was edited away is still
        // ours if its owner reference says so.
        current = client.secrets().inNamespace(ns).withName(name).get();
        if (current != null && !ownedBy(current, b)) {
          throw notOurs(name);
        }
      }
      if (current == null) {
        client.secrets().inNamespace(ns).resource(desired(b, name, data)).create();
        if (name.equals(run.status().getSecretName())) {
          run.metrics().driftRepaired(BindingMetrics.DriftKind.SECRET);
          run.events()
              .normal(
                  b,
                  EventReason.DriftRepaired,
                  "Secret " + name + " was deleted outside the operator; created it again");
        } else {
          run.events().normal(b, EventReason.SecretWritten, "Created Secret " + name);
        }
      } else if (!data.equals(current.getData())
          || !MANAGED_BY.equals(labels(current).get(MANAGED_BY_LABEL))) {
        // What the Secret held before this reconcile changed the serial number (a rotation or a
        // new enrolment) is not drift; anything else is.
        boolean ours =
            MANAGED_BY.equals(labels(current).get(MANAGED_BY_LABEL))
                && run.serialAtStart() != null
                && data(run, run.serialAtStart()).equals(current.getData());
        client
            .secrets()
            .inNamespace(ns)
            .withName(name)
            .edit(
                s -> {
                  s.setData(data);
                  s.setStringData(null);
                  s.getMetadata().setLabels(withManagedBy(s.getMetadata().getLabels()));
                  return s;
                });
        if (ours) {
          run.events()
              .normal(
                  b,
                  EventReason.SecretWritten,
                  "Updated Secret "
                      + name
                      + ": "
                      + AWS_MFA_SERIAL_NUMBER
                      + " is now "
                      + run.status().getSerialNumber());
        } else {
          run.metrics().driftRepaired(BindingMetrics.DriftKind.SECRET);
          run.events()
              .normal(b, EventReason.DriftRepaired, "Restored the content of Secret " + name);
        }
      }
      for (Secret old : owned) {
        if (!name.equals(old.getMetadata().getName())) {
          client.secrets().inNamespace(ns).withName(old.getMetadata().getName()).delete();
        }
      }
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        // Created by someone else between our read and our create.
        throw notOurs(name);
      }
      throw new StepFailure(
          ConditionType.SecretReady,
          Reason.KubernetesError,
          "cannot write Secret "
              + name
              + ": HTTP "
              + e.getCode()
              + (e.getStatus() == null ? "" : " " + e.getStatus().getMessage()),
          e);
    }
    run.status().setSecretName(name);
    run.conditions()
        .ok(
            ConditionType.SecretReady,
            Reason.SecretWritten,
            "Secret " + name + " points at " + run.desired().codePath());
  }

  private Map<String, String> data(Run run) {
    return data(run, run.status().getSerialNumber());
  }

  private Map<String, String> data(Run run, String serial) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(VAULT_ADDR, b64(vaultAddress));
    m.put(VAULT_TOTP_CODE_PATH, b64(run.desired().codePath()));
    m.put(AWS_MFA_SERIAL_NUMBER, b64(serial));
    m.put(AWS_IAM_USER_NAME, b64(run.desired().userName()));
    m.put(AWS_ACCOUNT_ID, b64(run.status().getAccountId()));
    return m;
  }

  private static Secret desired(AwsMfaBinding b, String name, Map<String, String> data) {
    OwnerReference owner =
        new OwnerReferenceBuilder()
            .withApiVersion(b.getApiVersion())
            .withKind(b.getKind())
            .withName(b.getMetadata().getName())
            .withUid(b.getMetadata().getUid())
            .withController(true)
            .withBlockOwnerDeletion(false)
            .build();
    return new SecretBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(b.getMetadata().getNamespace())
        .withLabels(withManagedBy(null))
        .withOwnerReferences(owner)
        .endMetadata()
        .withType("Opaque")
        .withData(data)
        .build();
  }

  private static StepFailure notOurs(String name) {
    return new StepFailure(
        ConditionType.SecretReady,
        Reason.Conflict,
        "Secret "
            + name
            + " already exists and is not owned by this binding; delete it or set"
            + " spec.secretName");
  }

  private static boolean ownedBy(Secret s, AwsMfaBinding b) {
    return s.getMetadata().getOwnerReferences() != null
        && s.getMetadata().getOwnerReferences().stream()
            .anyMatch(o -> b.getMetadata().getUid().equals(o.getUid()));
  }

  private static Map<String, String> labels(Secret s) {
    return s.getMetadata().getLabels() == null ? Map.of() : s.getMetadata().getLabels();
  }

  private static Map<String, String> withManagedBy(Map<String, String> labels) {
    Map<String, String> m = labels == null ? new LinkedHashMap<>() : new LinkedHashMap<>(labels);
    m.put(MANAGED_BY_LABEL, MANAGED_BY);
    return m;
  }

  private static String b64(String v) {
    return Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8));
  }
}
