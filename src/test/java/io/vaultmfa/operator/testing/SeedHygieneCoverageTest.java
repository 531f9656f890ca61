package io.vaultmfa.operator.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Invariant I2 in every tier: each integration and end-to-end test class that runs the operator
 * ends with the shared seed check. A class either extends {@link WithOperator} (whose {@code
 * AfterAll} runs {@link OperatorHarness#assertNoSeedLeaked()}) or calls {@link SeedHygiene} itself;
 * one that starts no operator has no seed of it to leak.
 */
class SeedHygieneCoverageTest {

  private static final List<String> STARTS_AN_OPERATOR =
      List.of("OperatorHarness.start", "Main.start(", "OperatorProcess.start", "new LocalStack");

  static Path testSources() {
    String base = System.getProperty("basedir", System.getProperty("user.dir"));
    return Paths.get(base).resolve("src/test/java");
  }

  static Stream<Path> testClassesOfTheSlowTiers() throws IOException {
    try (Stream<Path> files = Files.walk(testSources())) {
      List<Path> found =
          files
              .filter(
                  f ->
                      f.getFileName().toString().endsWith("IT.java")
                          || f.getFileName().toString().endsWith("E2E.java"))
              .sorted()
              .toList();
      assertThat(found).as("integration and end-to-end test classes").isNotEmpty();
      return found.stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("testClassesOfTheSlowTiers")
  void runsTheSeedCheckWhenItRunsTheOperator(Path file) throws IOException {
    String src = Files.readString(file);
    boolean harness = src.contains("extends WithOperator");
    boolean ownCheck = src.contains("SeedHygiene.") || src.contains(".assertNoSeedLeaked()");
    boolean startsOperator = STARTS_AN_OPERATOR.stream().anyMatch(src::contains);
    if (startsOperator || src.contains("OperatorHarness")) {
      assertThat(harness || ownCheck)
          .as(
              "%s runs the operator: extend WithOperator, or end with SeedHygiene's checks over"
                  + " its logs and cluster objects (invariant I2)",
              testSources().relativize(file))
          .isTrue();
    }
  }

  @Test
  void theHarnessCheckCoversLogsClusterObjectsTheirHistoryAndMetrics() throws IOException {
    String base =
        Files.readString(testSources().resolve("io/vaultmfa/operator/testing/WithOperator.java"));
    assertThat(base).contains("@AfterAll").contains("h.assertNoSeedLeaked()");
    String harness =
        Files.readString(
            testSources().resolve("io/vaultmfa/operator/testing/OperatorHarness.java"));
    String check = harness.substring(harness.indexOf("public void assertNoSeedLeaked()"));
    check = check.substring(0, check.indexOf("\n  }\n"));
    assertThat(check)
        .contains("logs.all()")
        .contains("SeedHygiene.assertNoSeedInCluster(")
        .contains("seen.assertNoSeed(")
        .contains("meters");
  }
}
