package io.vaultmfa.operator.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A command-line checker (promtool, lua5.1) run to completion. A missing command fails the test
 * with what installs it: such checks are part of the suite, never skipped.
 */
public final class Command {

  /** Exit code and everything the command printed, stdout and stderr together. */
  public record Result(int exitCode, String output) {}

  private Command() {}

  /** Runs the command in the repository root and waits at most a minute for it. */
  public static Result run(List<String> command) {
    return run(command, null);
  }

  /** As {@link #run(List)}, with {@code stdin} written to the command's standard input. */
  public static Result run(List<String> command, String stdin) {
    return run(command, stdin, Map.of());
  }

  /**
   * As {@link #run(List, String)}, with {@code env} added to the environment. The command is a name
   * on PATH or a path to an executable (such as {@code .tools/bin/helm}).
   */
  public static Result run(List<String> command, String stdin, Map<String, String> env) {
    String name = command.get(0);
    if (name.contains("/")) {
      requireExecutable(Path.of(name));
    } else {
      requireOnPath(name);
    }
    try {
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.environment().putAll(env);
      Process p = builder.start();
      if (stdin != null) {
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " did not finish in 60 s");
      }
      return new Result(p.exitValue(), out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Fails with the install hint when {@code file} is not an executable file. */
  public static void requireExecutable(Path file) {
    if (!Files.isExecutable(file)) {
      throw new AssertionError(
          file + " is missing; scripts/install-tools.sh installs it (scripts/test.sh runs it)");
    }
  }

  /** Fails with the install hint when {@code name} is not an executable on PATH. */
  public static void requireOnPath(String name) {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
        return;
      }
    }
    throw new AssertionError(
        name + " is not on PATH; scripts/install-tools.sh installs it (scripts/test.sh runs it)");
  }
}
