package io.vaultmfa.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.vaultmfa.operator.config.OperatorConfig;
import io.vaultmfa.operator.config.Setting;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code kubectl kustomize deploy/} renders: least privilege and a hardened pod. */
class DeployManifestsTest {

  static List<HasMetadata> objects;

  @BeforeAll
  static void render() throws Exception {
    Path base = Path.of(System.getProperty("basedir", ".")).resolve("deploy");
    Process p = new ProcessBuilder("kubectl", "kustomize", base.toString()).start();
    byte[] out = p.getInputStream().readAllBytes();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("kubectl kustomize deploy/: %s", err).isZero();
    // A multi-document YAML stream unmarshals to a list of objects.
    objects = Serialization.unmarshal(new ByteArrayInputStream(out));
  }

  @Test
  void clusterRoleGrantsExactlyWhatTheOperatorUses() {
    ClusterRole role = only(ClusterRole.class);
    assertThat(grants(role.getRules()))
        .containsExactlyInAnyOrder(
            "vaultmfa.io/awsmfabindings:get",
            "vaultmfa.io/awsmfabindings:list",
            "vaultmfa.io/awsmfabindings:watch",
            "vaultmfa.io/awsmfabindings:patch",
            "vaultmfa.io/awsmfabindings:update",
            "vaultmfa.io/awsmfabindings/status:get",
            "vaultmfa.io/awsmfabindings/status:patch",
            "vaultmfa.io/awsmfabindings/status:update",
            "vaultmfa.io/awsmfabindings/finalizers:update",
            "/secrets:get",
            "/secrets:list",
            "/secrets:watch",
            "/secrets:create",
            "/secrets:update",
            "/secrets:patch",
            "/secrets:delete",
            "/events:create",
            "/events:patch");
  }

  @Test
  void leasesOnlyInTheOperatorsOwnNamespace() {
    Role role = only(Role.class);
    assertThat(role.getMetadata().getNamespace()).isEqualTo("vault-mfa-operator");
    assertThat(grants(role.getRules()))
        .containsExactlyInAnyOrder(
            "coordination.k8s.io/leases:get",
            "coordination.k8s.io/leases:create",
            "coordination.k8s.io/leases:update",
            "coordination.k8s.io/leases:patch");
    RoleBinding binding = only(RoleBinding.class);
    assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
    assertThat(binding.getSubjects())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.getName()).isEqualTo("vault-mfa-operator");
              assertThat(s.getNamespace()).isEqualTo("vault-mfa-operator");
            });
  }

  private static Set<String> grants(List<PolicyRule> rules) {
    Set<String> grants = new TreeSet<>();
    for (PolicyRule r : rules) {
      for (String g : r.getApiGroups()) {
        for (String res : r.getResources()) {
          for (String v : r.getVerbs()) {
            grants.add(g + "/" + res + ":" + v);
          }
        }
      }
    }
    return grants;
  }

  @Test
  void podRunsAsNonRootWithReadOnlyRootAndNoCapabilities() {
    Deployment d = only(Deployment.class);
    var pod = d.getSpec().getTemplate().getSpec();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    var c = pod.getContainers().get(0);
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(c.getResources().getLimits()).containsKey("memory");
  }

  @Test
  void twoReplicasElectALeaderOnALeaseInTheirOwnNamespace() {
    Deployment d = only(Deployment.class);
    assertThat(d.getSpec().getReplicas()).isEqualTo(2);
    assertThat(d.getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
    var env = d.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
    assertThat(env)
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("VAULTMFA_LEADER_ELECTION");
              assertThat(e.getValue()).isEqualTo("true");
            })
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("POD_NAMESPACE");
              assertThat(e.getValueFrom().getFieldRef().getFieldPath())
                  .isEqualTo("metadata.namespace");
            });
    PodDisruptionBudget pdb = only(PodDisruptionBudget.class);
    assertThat(pdb.getSpec().getMinAvailable().getIntVal()).isEqualTo(1);
    assertThat(pdb.getSpec().getSelector().getMatchLabels())
        .isEqualTo(d.getSpec().getSelector().getMatchLabels());
  }

  @Test
  void anOutOfMemoryErrorEndsTheProcessSoThatKubernetesRestartsIt() throws Exception {
    // JAVA_TOOL_OPTIONS of the Deployment replaces the image's, which sets the same flag: without
    // it a JVM out of memory keeps answering /healthz while its reconciler threads are dead.
    var env = only(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
    String dockerfile =
        Files.readString(Path.of(System.getProperty("basedir", ".")).resolve("Dockerfile"));
    assertThat(dockerfile).contains("-XX:+ExitOnOutOfMemoryError");
    assertThat(env.getEnv())
        .filteredOn(e -> e.getName().equals("JAVA_TOOL_OPTIONS"))
        .allSatisfy(e -> assertThat(e.getValue()).contains("-XX:+ExitOnOutOfMemoryError"));
  }

  @Test
  void theImageTheDeploymentAndTheBenchmarkGiveTheHeapTheSameShareOfTheMemoryLimit()
      throws Exception {
    var c = only(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
    String options =
        c.getEnv().stream()
            .filter(e -> e.getName().equals("JAVA_TOOL_OPTIONS"))
            .findFirst()
            .orElseThrow()
            .getValue();
    String dockerfile =
        Files.readString(Path.of(System.getProperty("basedir", ".")).resolve("Dockerfile"));
    assertThat(dockerfile).contains("ENV JAVA_TOOL_OPTIONS=\"" + options + "\"");
    String share =
        java.util.Arrays.stream(options.split(" "))
            .filter(o -> o.startsWith("-XX:MaxRAMPercentage="))
            .findFirst()
            .orElseThrow();
    // The memory figures of README's "Benchmark" are taken with these options and this limit.
    assertThat(io.vaultmfa.operator.bench.OperatorProcess.JVM_OPTIONS)
        .contains(share)
        .contains("-XX:MaxRAM=" + c.getResources().getLimits().get("memory").getAmount() + "m");
  }

  @Test
  void theConfigMapsSettingsAreKeysTheOperatorKnows(@TempDir Path dir) throws Exception {
    var cm = only(io.fabric8.kubernetes.api.model.ConfigMap.class);
    Path file = dir.resolve("operator.yaml");
    Files.writeString(file, cm.getData().get("operator.yaml"));
    // The two required settings are left empty in the base, for the user to fill in.
    OperatorConfig c =
        OperatorConfig.load(
            Map.of(
                "VAULTMFA_CONFIG", file.toString(),
                "VAULTMFA_CLUSTER_ID", "prod-eu-1",
                "VAULT_ADDR", "https://vault.example.com:8200"));
    assertThat(c.get(Setting.VAULT_AUTH)).isEqualTo("kubernetes");
  }

  private static <T extends HasMetadata> T only(Class<T> type) {
    List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
    assertThat(found).as(type.getSimpleName()).hasSize(1);
    return found.get(0);
  }
}
