package io.vaultmfa.operator.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An IAM identity policy (such as config/iam-policy.json) and IAM's decision for one request:
 * explicit Deny wins, else some Allow must match action, resource and every condition. Covers what
 * an identity policy of this operator can say: Action/NotAction and Resource/NotResource with
 * {@code *} and {@code ?}, policy variables, and the string, ARN and Null condition operators with
 * IfExists and ForAllValues/ForAnyValue. Anything else is refused loudly, so a policy this class
 * cannot judge fails the test instead of passing it.
 */
public final class IamPolicy {

  /**
   * What IAM knows when it authorizes one action: e.g. {@code iam:DeleteUser} on {@code
   * arn:aws:iam::123456789012:user/ci} with the context key {@code aws:ResourceTag/owner}.
   */
  public record Request(String action, String resource, Map<String, List<String>> context) {

    public Optional<List<String>> key(String name) {
      for (Map.Entry<String, List<String>> e : context.entrySet()) {
        // Condition key names are case-insensitive; tag keys inside them are matched as given.
        if (e.getKey().equalsIgnoreCase(name)) {
          return Optional.of(e.getValue());
        }
      }
      return Optional.empty();
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{([^}]+)}");

  private final JsonNode document;

  private IamPolicy(JsonNode document) {
    this.document = document;
  }

  public static IamPolicy read(Path file) {
    try {
      return new IamPolicy(JSON.readTree(file.toFile()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** True when the policy allows the request and no statement denies it. */
  public boolean allows(Request r) {
    boolean allowed = false;
    for (JsonNode s : list(document.path("Statement"))) {
      if (!applies(s, r)) {
        continue;
      }
      if (s.path("Effect").asText().equals("Deny")) {
        return false;
      }
      allowed = true;
    }
    return allowed;
  }

  /** The Sid of each Allow statement that grants the request, for messages. */
  public List<String> grantingStatements(Request r) {
    List<String> out = new ArrayList<>();
    for (JsonNode s : list(document.path("Statement"))) {
      if (s.path("Effect").asText().equals("Allow") && applies(s, r)) {
        out.add(s.path("Sid").asText("(no Sid)"));
      }
    }
    return out;
  }

  private boolean applies(JsonNode s, Request r) {
    boolean action =
        s.has("NotAction")
            ? !anyMatches(s.path("NotAction"), r.action(), r, true)
            : anyMatches(s.path("Action"), r.action(), r, true);
    boolean resource =
        s.has("NotResource")
            ? !anyMatches(s.path("NotResource"), r.resource(), r, false)
            : anyMatches(s.path("Resource"), r.resource(), r, false);
    return action && resource && conditionsHold(s.path("Condition"), r);
  }

  private boolean conditionsHold(JsonNode conditions, Request r) {
    var operators = conditions.fields();
    while (operators.hasNext()) {
      var op = operators.next();
      var keys = op.getValue().fields();
      while (keys.hasNext()) {
        var key = keys.next();
        if (!holds(op.getKey(), key.getKey(), list(key.getValue()), r)) {
          return false;
        }
      }
    }
    return true;
  }

  private boolean holds(String operator, String key, List<JsonNode> policyValues, Request r) {
    String op = operator;
    String set = "";
    if (op.startsWith("ForAllValues:") || op.startsWith("ForAnyValue:")) {
      set = op.substring(0, op.indexOf(':'));
      op = op.substring(op.indexOf(':') + 1);
    }
    boolean ifExists = op.endsWith("IfExists");
    if (ifExists) {
      op = op.substring(0, op.length() - "IfExists".length());
    }
    Optional<List<String>> actual = r.key(key);
    if (op.equals("Null")) {
      boolean wantAbsent = Boolean.parseBoolean(policyValues.get(0).asText());
      return wantAbsent == actual.isEmpty();
    }
    boolean negated = op.contains("Not");
    if (actual.isEmpty()) {
      // A missing key: ForAllValues holds vacuously, ForAnyValue cannot; a single-valued
      // operator holds only with IfExists or when negated.
      if (!set.isEmpty()) {
        return set.equals("ForAllValues");
      }
      return ifExists || negated;
    }
    List<String> values = new ArrayList<>();
    for (JsonNode v : policyValues) {
      Optional<String> s = substitute(v.asText(), r);
      s.ifPresent(values::add);
    }
    String base = op.replace("Not", "");
    if (set.equals("ForAllValues")) {
      return actual.get().stream().allMatch(a -> matchesAny(base, a, values) != negated);
    }
    boolean any = actual.get().stream().anyMatch(a -> matchesAny(base, a, values));
    return any != negated;
  }

  private static boolean matchesAny(String operator, String actual, List<String> values) {
    for (String v : values) {
      boolean m =
          switch (operator) {
            case "StringEquals", "ArnEquals" -> actual.equals(v);
            case "StringEqualsIgnoreCase" -> actual.equalsIgnoreCase(v);
            case "StringLike", "ArnLike" -> glob(v, actual, false);
            default ->
                throw new IllegalArgumentException(
                    "condition operator " + operator + " is not understood by this check");
          };
      if (m) {
        return true;
      }
    }
    return false;
  }

  private static boolean anyMatches(JsonNode patterns, String value, Request r, boolean action) {
    for (JsonNode p : list(patterns)) {
      Optional<String> pattern = action ? Optional.of(p.asText()) : substitute(p.asText(), r);
      if (pattern.isPresent() && glob(pattern.get(), value, action)) {
        return true;
      }
    }
    return false;
  }

  /** {@code *} is any run of characters, {@code ?} one; actions ignore case, ARNs do not. */
  static boolean glob(String pattern, String value, boolean ignoreCase) {
    StringBuilder re = new StringBuilder();
    for (char c : pattern.toCharArray()) {
      switch (c) {
        case '*' -> re.append(".*");
        case '?' -> re.append('.');
        default -> re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    int flags = ignoreCase ? Pattern.CASE_INSENSITIVE : 0;
    return Pattern.compile(re.toString(), flags | Pattern.DOTALL).matcher(value).matches();
  }

  /** Replaces {@code ${key}} by the request's single value; empty when a key is missing. */
  private static Optional<String> substitute(String text, Request r) {
    Matcher m = VARIABLE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String key = m.group(1);
      String literal =
          switch (key) {
            case "*" -> "*";
            case "?" -> "?";
            case "$" -> "$";
            default -> null;
          };
      if (literal == null) {
        Optional<List<String>> v = r.key(key);
        if (v.isEmpty() || v.get().size() != 1) {
          return Optional.empty();
        }
        literal = v.get().get(0);
      }
      m.appendReplacement(out, Matcher.quoteReplacement(literal));
    }
    m.appendTail(out);
    return Optional.of(out.toString());
  }

  private static List<JsonNode> list(JsonNode n) {
    List<JsonNode> out = new ArrayList<>();
    if (n == null || n.isMissingNode() || n.isNull()) {
      return out;
    }
    if (n.isArray()) {
      n.forEach(out::add);
    } else {
      out.add(n);
    }
    return out;
  }

  @Override
  public String toString() {
    return "IAM policy with " + list(document.path("Statement")).size() + " statements";
  }
}
