package io.vaultmfa.operator.reconciler;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.micrometer.core.instrument.Timer;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.metrics.OutsideCalls;
import io.vaultmfa.operator.testing.BadSpecs;
import io.vaultmfa.operator.testing.BadSpecs.Bad;
import io.vaultmfa.operator.testing.WithOperator;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Specs the CRD schema would refuse ({@link BadSpecs}, the corpus the real API server refuses in
 * {@code CrdValidationE2E}), sent to an API server that does not enforce it (the mock server, like
 * a cluster whose CRD is outdated). Each becomes Ready=False with reason InvalidSpec and a message
 * that names the field and the rule, and nothing at all is asked of IAM, STS or Vault: not while
 * reconciling and not while deleting.
 */
class InvalidSpecIT extends WithOperator {

  static final String NS = "invalid";
  static long vaultCallsBefore;

  static Stream<Bad> corpus() {
    return BadSpecs.inJavaModel();
  }

  @BeforeAll
  static void prepare() {
    h.iamBoundary.clearCalls();
    vaultCallsBefore = vaultCalls();
    corpus().forEach(bad -> h.apply(bad.binding(NS)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void badSpecIsInvalidSpecNamingTheFieldAndTheRule(Bad bad) {
    Condition ready = h.awaitCondition(NS, bad.name(), "Ready", "False", "InvalidSpec");
    assertThat(ready.getMessage())
        .as("Ready message")
        .contains(bad.field())
        .contains(bad.operatorSays());
  }

  @Test
  void corpusMakesNoIamStsOrVaultCall() {
    corpus().forEach(bad -> h.awaitCondition(NS, bad.name(), "Ready", "False", "InvalidSpec"));

    assertThat(h.iamBoundary.calls()).as("IAM and STS calls").isEmpty();
    assertThat(vaultCalls() - vaultCallsBefore).as("Vault calls").isZero();
  }

  @Test
  void deletingAnInvalidBindingDropsTheFinalizerWithoutOutsideCalls() {
    AwsMfaBinding b = binding(NS, "doomed", "doomed user");
    h.apply(b);
    h.awaitCondition(NS, "doomed", "Ready", "False", "InvalidSpec");
    assertThat(h.get(NS, "doomed").getMetadata().getFinalizers())
        .as("finalizer while the binding exists")
        .contains("vaultmfa.io/finalizer");
    int iamBefore = h.iamBoundary.calls().size();
    long vaultBefore = vaultCalls();

    h.delete(NS, "doomed");
    h.awaitGone(NS, "doomed");

    assertThat(h.iamBoundary.calls().subList(iamBefore, h.iamBoundary.calls().size()))
        .as("IAM and STS calls while deleting")
        .isEmpty();
    assertThat(vaultCalls() - vaultBefore).as("Vault calls while deleting").isZero();
  }

  @Test
  void specWithoutIamUserIsInvalidSpec() {
    AwsMfaBinding b = binding(NS, "no-user", "unused");
    b.getSpec().setIamUser(null);
    h.apply(b);

    Condition ready = h.awaitCondition(NS, "no-user", "Ready", "False", "InvalidSpec");
    assertThat(ready.getMessage()).as("Ready message").contains("spec.iamUser");
  }

  @Test
  void deletingSpecWithoutIamUserDropsTheFinalizer() {
    AwsMfaBinding b = binding(NS, "no-user-doomed", "unused");
    b.getSpec().setIamUser(null);
    h.apply(b);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                h.get(NS, "no-user-doomed")
                    .getMetadata()
                    .getFinalizers()
                    .contains("vaultmfa.io/finalizer"));

    h.delete(NS, "no-user-doomed");
    h.awaitGone(NS, "no-user-doomed");
  }

  /** Every Vault call the operator made, whatever the operation and outcome. */
  static long vaultCalls() {
    return h.meters.find(OutsideCalls.METRIC).tag("system", "vault").timers().stream()
        .mapToLong(Timer::count)
        .sum();
  }
}
