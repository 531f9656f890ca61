package io.vaultmfa.operator;

import static io.vaultmfa.operator.testing.OperatorHarness.binding;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vaultmfa.operator.testing.SeedHygiene;
import io.vaultmfa.operator.testing.WithOperator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The JSON log format ({@code logging.format: json}) while a binding is enrolled: every line is one
 * JSON object, the lines about the binding carry its namespace and name, and no line holds the
 * seed.
 */
class JsonLogIT extends WithOperator {

  static final String NS = "json-logs";
  static final String NAME = "deployer";
  static final ByteArrayOutputStream out = new ByteArrayOutputStream();
  static OutputStreamAppender<ILoggingEvent> json;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void logAsJson() {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    json = new OutputStreamAppender<>();
    json.setContext(ctx);
    json.setName("json-test");
    json.setEncoder(Logging.jsonEncoder(ctx));
    json.setOutputStream(out);
    json.start();
    ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(json);
  }

  @AfterAll
  static void stopJson() {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(json);
    json.stop();
  }

  @Test
  void eachLineIsJsonAndNamesTheBinding() throws IOException {
    h.apply(binding(NS, NAME, "JsonLogUser"));
    h.awaitReady(NS, NAME);

    String text;
    synchronized (out) {
      text = out.toString(StandardCharsets.UTF_8);
    }
    List<JsonNode> lines = new ArrayList<>();
    for (String line : text.split("\n")) {
      lines.add(JSON.readTree(line));
    }
    List<JsonNode> aboutBinding =
        lines.stream()
            .filter(
                l -> l.path("loggerName").asText().startsWith("io.vaultmfa.operator.reconciler"))
            .toList();
    assertThat(aboutBinding).as("log lines of the reconciler").isNotEmpty();
    assertThat(aboutBinding)
        .allSatisfy(
            l -> {
              assertThat(l.path("mdc").path("resource.namespace").asText()).isEqualTo(NS);
              assertThat(l.path("mdc").path("resource.name").asText()).isEqualTo(NAME);
              assertThat(l.path("level").asText()).isNotEmpty();
              assertThat(l.path("timestamp").asLong()).isPositive();
            });
    assertThat(aboutBinding)
        .extracting(l -> l.path("formattedMessage").asText())
        .anySatisfy(msg -> assertThat(msg).startsWith("UserCreated: "))
        .anySatisfy(msg -> assertThat(msg).startsWith("DeviceEnrolled: "))
        .anySatisfy(msg -> assertThat(msg).startsWith("SecretWritten: "));
    assertThat(h.iamBoundary.allSeeds()).as("seeds IAM issued").isNotEmpty();
    SeedHygiene.assertNoSeed("the JSON log", text, h.iamBoundary.allSeeds());
  }
}
