package io.vaultmfa.operator.argocd;

import com.fasterxml.jackson.databind.JsonNode;
import io.vaultmfa.operator.testing.Command;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Runs config/argocd/health-awsmfabinding.lua in a real Lua 5.1 interpreter ({@code lua5.1}) the
 * way Argo CD runs a health customization: the object, converted from JSON to a Lua table (objects
 * to tables with string keys, arrays to sequences from 1, null to nil), is the global {@code obj},
 * and the script's top-level {@code return} gives {@code {status, message}}.
 */
final class ArgoHealthCheck {

  static final Path SCRIPT = Path.of("config/argocd/health-awsmfabinding.lua");

  /** What Argo CD would show for the resource. */
  record Health(String status, String message) {}

  private ArgoHealthCheck() {}

  static Health of(JsonNode object) {
    String program =
        "obj = "
            + luaValue(object)
            + "\nlocal check = function()\n"
            + script()
            + "\nend\nlocal hs = check()\n"
            + "io.write(tostring(hs.status), '\\n', tostring(hs.message), '\\n')\n";
    Command.Result r = Command.run(List.of("lua5.1", "-"), program);
    if (r.exitCode() != 0) {
      throw new AssertionError("lua5.1 failed on the health check:\n" + r.output());
    }
    String[] lines = r.output().split("\n", 2);
    return new Health(lines[0], lines.length > 1 ? lines[1].stripTrailing() : "");
  }

  static String script() {
    try {
      return Files.readString(SCRIPT);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A Lua table constructor (or scalar) with the value of the JSON node. */
  static String luaValue(JsonNode n) {
    if (n == null || n.isNull() || n.isMissingNode()) {
      return "nil";
    }
    if (n.isObject()) {
      StringBuilder b = new StringBuilder("{");
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        b.append('[').append(luaString(e.getKey())).append("]=").append(luaValue(e.getValue()));
        b.append(',');
      }
      return b.append('}').toString();
    }
    if (n.isArray()) {
      StringBuilder b = new StringBuilder("{");
      n.forEach(v -> b.append(luaValue(v)).append(','));
      return b.append('}').toString();
    }
    if (n.isNumber()) {
      return n.asText();
    }
    if (n.isBoolean()) {
      return n.asBoolean() ? "true" : "false";
    }
    return luaString(n.asText());
  }

  /** A double-quoted Lua 5.1 string: printable ASCII as is, every other byte as \ddd. */
  static String luaString(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
      int c = x & 0xff;
      if (c == '"' || c == '\\') {
        b.append('\\').append((char) c);
      } else if (c >= 0x20 && c < 0x7f) {
        b.append((char) c);
      } else {
        b.append('\\').append(String.format("%03d", c));
      }
    }
    return b.append('"').toString();
  }
}
