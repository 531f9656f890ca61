package io.vaultmfa.operator.monitoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The PromQL of config/monitoring: every alert rule and every dashboard query. */
final class MonitoringConfig {

  static final Path ALERTS = Path.of("config/monitoring/alerts.yaml");
  static final Path ALERT_TESTS = Path.of("config/monitoring/alerts-test.yaml");
  static final Path DASHBOARD = Path.of("config/monitoring/dashboard.json");

  /** One query and where it is, e.g. "dashboard.json panel 5 (Bindings by Ready and reason) A". */
  record Query(String where, String promql) {}

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();

  private MonitoringConfig() {}

  static List<Query> alertQueries() {
    List<Query> out = new ArrayList<>();
    for (JsonNode group : read(YAML, ALERTS).path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        out.add(
            new Query("alerts.yaml " + rule.path("alert").asText(), rule.path("expr").asText()));
      }
    }
    return out;
  }

  static JsonNode dashboard() {
    return read(JSON, DASHBOARD);
  }

  /** Every panel, rows' nested panels included. */
  static List<JsonNode> panels() {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode p : dashboard().path("panels")) {
      out.add(p);
      p.path("panels").forEach(out::add);
    }
    return out;
  }

  /**
   * Every panel query, and the query of each templating variable ({@code label_values(m, l)} is
   * taken as the selector {@code m}).
   */
  static List<Query> dashboardQueries() {
    List<Query> out = new ArrayList<>();
    for (JsonNode p : panels()) {
      for (JsonNode t : p.path("targets")) {
        out.add(
            new Query(
                "dashboard.json panel "
                    + p.path("id").asInt()
                    + " ("
                    + p.path("title").asText()
                    + ") "
                    + t.path("refId").asText(),
                t.path("expr").asText()));
      }
    }
    for (JsonNode v : dashboard().path("templating").path("list")) {
      if (v.path("type").asText().equals("query")) {
        String q = v.path("query").path("query").asText(v.path("query").asText());
        Matcher m = Pattern.compile("^label_values\\((.*),\\s*\\w+\\)$").matcher(q.trim());
        out.add(
            new Query(
                "dashboard.json variable $" + v.path("name").asText(),
                m.matches() ? m.group(1) : q));
      }
    }
    return out;
  }

  /**
   * The query with Grafana's variables replaced by values Prometheus accepts, as Grafana sends it:
   * {@code $__rate_interval} by a duration, {@code $job} by the "All" regex.
   */
  static String asPrometheusSees(String grafanaQuery) {
    return grafanaQuery
        .replace("$__rate_interval", "5m")
        .replace("$__interval", "1m")
        .replace("$__range", "6h")
        .replace("$job", ".*");
  }

  private static final Set<String> KEYWORDS =
      Set.of(
          "and",
          "or",
          "unless",
          "by",
          "without",
          "on",
          "ignoring",
          "group_left",
          "group_right",
          "bool",
          "offset",
          "inf",
          "nan");

  /**
   * The metric names a PromQL expression reads: identifiers that are not functions, aggregation
   * operators, keywords, label names (in matchers and in by/without/on/ignoring/group lists),
   * numbers, durations or strings.
   */
  static Set<String> metricNames(String promql) {
    String s = promql;
    s = s.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", " ");
    s = s.replaceAll("'(?:[^'\\\\]|\\\\.)*'", " ");
    s = s.replaceAll("\\$\\{[^}]*}|\\$\\w+", " ");
    s = s.replaceAll("\\{[^}]*}", " ");
    s = s.replaceAll("\\[[^]]*]", " ");
    s = s.replaceAll("(?i)\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
    s = s.replaceAll("\\b\\d+(\\.\\d+)?([eE][+-]?\\d+)?([smhdwy]|ms)?\\b", " ");
    Set<String> names = new TreeSet<>();
    Matcher m = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*(\\s*\\()?").matcher(s);
    while (m.find()) {
      String token = m.group().replaceAll("[\\s(]", "");
      boolean function = m.group(1) != null;
      if (!function && !KEYWORDS.contains(token.toLowerCase(Locale.ROOT))) {
        names.add(token);
      }
    }
    return names;
  }

  private static JsonNode read(ObjectMapper mapper, Path file) {
    try {
      return mapper.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
