package io.vaultmfa.operator.testing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The samples of a Prometheus text exposition ({@code GET /metrics}): each line {@code
 * name{label="value",...} number}, comments skipped.
 */
public final class PrometheusText {

  /** One sample line. */
  public record Sample(String name, Map<String, String> labels, double value) {
    public boolean has(String... pairs) {
      for (int i = 0; i < pairs.length; i += 2) {
        if (!pairs[i + 1].equals(labels.get(pairs[i]))) {
          return false;
        }
      }
      return true;
    }
  }

  private final List<Sample> samples;

  private PrometheusText(List<Sample> samples) {
    this.samples = samples;
  }

  public static PrometheusText parse(String text) {
    List<Sample> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      out.add(sample(line));
    }
    return new PrometheusText(out);
  }

  private static Sample sample(String line) {
    int brace = line.indexOf('{');
    int space = line.indexOf(' ');
    Map<String, String> labels = new LinkedHashMap<>();
    String name;
    int rest;
    if (brace >= 0 && brace < space) {
      name = line.substring(0, brace);
      int i = brace + 1;
      while (line.charAt(i) != '}') {
        int eq = line.indexOf('=', i);
        String key = line.substring(i, eq).trim();
        StringBuilder v = new StringBuilder();
        int j = eq + 2; // past ="
        while (line.charAt(j) != '"') {
          char c = line.charAt(j);
          if (c == '\\') {
            char n = line.charAt(++j);
            v.append(n == 'n' ? '\n' : n);
          } else {
            v.append(c);
          }
          j++;
        }
        labels.put(key, v.toString());
        i = j + 1;
        if (line.charAt(i) == ',') {
          i++;
        }
      }
      rest = i + 1;
    } else {
      name = line.substring(0, space);
      rest = space;
    }
    String[] tail = line.substring(rest).trim().split("\\s+");
    String number = tail[0].replace("+Inf", "Infinity").replace("-Inf", "-Infinity");
    return new Sample(name, labels, Double.parseDouble(number));
  }

  public List<Sample> samples() {
    return samples;
  }

  /** Every sample of this name (a counter's {@code _total}, a histogram's {@code _count}...). */
  public List<Sample> named(String name) {
    return samples.stream().filter(s -> s.name().equals(name)).toList();
  }

  /** The one sample of this name with these labels (more labels may be present). */
  public Optional<Double> value(String name, String... labelPairs) {
    List<Sample> found = named(name).stream().filter(s -> s.has(labelPairs)).toList();
    if (found.size() > 1) {
      throw new IllegalStateException(
          found.size() + " samples of " + name + " match " + List.of(labelPairs));
    }
    return found.stream().findFirst().map(Sample::value);
  }

  /** The sum over samples of this name with these labels; 0 when there are none. */
  public double sum(String name, String... labelPairs) {
    return named(name).stream().filter(s -> s.has(labelPairs)).mapToDouble(Sample::value).sum();
  }
}
