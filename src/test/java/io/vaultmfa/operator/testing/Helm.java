package io.vaultmfa.operator.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The Helm binary that {@code scripts/install-tools.sh} builds into {@code .tools/bin}. */
public final class Helm {

  /** The chart, relative to the repository root (the tests' working directory). */
  public static final String CHART = "charts/vault-mfa-operator";

  /** The two settings without a default, so that the chart renders. */
  public static final List<String> REQUIRED =
      List.of(
          "--set",
          "config.clusterId=prod-eu-1",
          "--set",
          "config.vault.address=https://vault.example.com:8200");

  private Helm() {}

  public static Path binary() {
    return Path.of(System.getProperty("basedir", ".")).resolve(".tools/bin/helm").toAbsolutePath();
  }

  /** {@code helm <args>} with {@code env} added to the environment. */
  public static Command.Result run(Map<String, String> env, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(binary().toString());
    command.addAll(args);
    return Command.run(command, null, env);
  }

  public static Command.Result run(List<String> args) {
    return run(Map.of(), args);
  }
}
