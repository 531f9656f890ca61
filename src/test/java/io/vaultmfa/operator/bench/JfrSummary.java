package io.vaultmfa.operator.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a JFR recording's CPU samples ({@code jdk.ExecutionSample}) fall: the methods on top of the
 * stack, and the libraries (package prefixes) they belong to. {@code java ... JfrSummary file.jfr}
 * prints it for any recording.
 */
final class JfrSummary {

  private JfrSummary() {}

  public static void main(String[] args) throws IOException {
    print(Path.of(args[0]), 15, System.out);
  }

  static void print(Path file, int top, PrintStream out) throws IOException {
    Map<String, Integer> methods = new HashMap<>();
    Map<String, Integer> libraries = new HashMap<>();
    int samples = 0;
    for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
      if (!e.getEventType().getName().equals("jdk.ExecutionSample") || e.getStackTrace() == null) {
        continue;
      }
      var frames = e.getStackTrace().getFrames();
      if (frames.isEmpty()) {
        continue;
      }
      samples++;
      RecordedFrame f = frames.get(0);
      String type = f.getMethod().getType().getName();
      methods.merge(type + "." + f.getMethod().getName(), 1, Integer::sum);
      libraries.merge(library(type), 1, Integer::sum);
    }
    out.printf("%s: %d CPU samples%n", file, samples);
    if (samples == 0) {
      return;
    }
    int total = samples;
    out.println("  by library (top frame's package):");
    libraries.entrySet().stream()
        .sorted((a, b) -> b.getValue() - a.getValue())
        .limit(top)
        .forEach(x -> out.printf("    %5.1f %%  %s%n", 100.0 * x.getValue() / total, x.getKey()));
    out.println("  by method (top frame):");
    methods.entrySet().stream()
        .sorted((a, b) -> b.getValue() - a.getValue())
        .limit(top)
        .forEach(x -> out.printf("    %5.1f %%  %s%n", 100.0 * x.getValue() / total, x.getKey()));
  }

  /** The first three parts of a package: {@code software.amazon.awssdk}, {@code io.fabric8.x}. */
  static String library(String type) {
    String[] p = type.split("\\.");
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < Math.min(3, p.length - 1); i++) {
      b.append(i == 0 ? "" : ".").append(p[i]);
    }
    return b.toString();
  }
}
