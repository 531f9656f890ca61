package io.vaultmfa.operator.testing;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Base of the integration tests: one {@link OperatorHarness} per test class, and after the class
 * the seed hygiene check (invariant I2) over everything a person could see, and the check that
 * config/iam-policy.json allows every IAM and STS call the operator made.
 */
public abstract class WithOperator {

  protected static OperatorHarness h;

  @BeforeAll
  static void startHarness() {
    h = OperatorHarness.start();
  }

  @AfterAll
  static void stopHarness() {
    if (h != null) {
      try {
        h.assertNoSeedLeaked();
        h.assertIamPolicyAllowsEveryCall();
      } finally {
        h.close();
        h = null;
      }
    }
  }
}
