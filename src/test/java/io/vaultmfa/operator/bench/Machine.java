package io.vaultmfa.operator.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the figures were taken on: CPUs, memory, load, date, Java. */
final class Machine {

  private Machine() {}

  static Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("date", Instant.now().toString());
    m.put("cpus", Runtime.getRuntime().availableProcessors());
    m.put("cpuModel", grep("/proc/cpuinfo", "model name\\s*:\\s*(.+)"));
    m.put("memTotalGiB", memTotalKiB() / 1024.0 / 1024.0);
    m.put("loadAverage", read("/proc/loadavg").split(" ", 4).length >= 3 ? load() : "");
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    return m;
  }

  static String summary() {
    return String.format(
        java.util.Locale.ROOT,
        "%d cores (%s), %.0f GiB, load %s, %s",
        Runtime.getRuntime().availableProcessors(),
        grep("/proc/cpuinfo", "model name\\s*:\\s*(.+)"),
        memTotalKiB() / 1024.0 / 1024.0,
        load(),
        Instant.now().toString().substring(0, 16) + "Z");
  }

  private static String load() {
    String[] p = read("/proc/loadavg").split(" ");
    return p.length >= 3 ? p[0] + " " + p[1] + " " + p[2] : "?";
  }

  private static long memTotalKiB() {
    String v = grep("/proc/meminfo", "MemTotal:\\s*(\\d+) kB");
    return v.isEmpty() ? 0 : Long.parseLong(v);
  }

  private static String grep(String file, String regex) {
    Matcher m = Pattern.compile("(?m)^" + regex).matcher(read(file));
    return m.find() ? m.group(1).trim() : "";
  }

  private static String read(String file) {
    try {
      return Files.readString(Path.of(file));
    } catch (IOException e) {
      return "";
    }
  }
}
