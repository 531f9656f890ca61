package io.vaultmfa.operator;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import org.slf4j.LoggerFactory;

/**
 * Switches the console log to one JSON object per line ({@code logging.format: json}) for log
 * pipelines. Each object carries {@code level}, {@code loggerName}, {@code formattedMessage} and,
 * in {@code mdc}, {@code resource.namespace} and {@code resource.name} of the binding being
 * reconciled (set by java-operator-sdk around each reconcile).
 */
public final class Logging {

  /** The console appender of {@code logback.xml}. */
  static final String TEXT_APPENDER = "TEXT";

  static final String JSON_APPENDER = "JSON";

  private Logging() {}

  /**
   * Replaces the text console appender by a JSON one. Does nothing when logback.xml was replaced by
   * one without a {@value #TEXT_APPENDER} appender: that configuration decides the format.
   */
  public static synchronized void useJson() {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
      return;
    }
    Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Appender<ILoggingEvent> text = root.getAppender(TEXT_APPENDER);
    if (!(text instanceof ConsoleAppender<ILoggingEvent>)) {
      return;
    }
    ConsoleAppender<ILoggingEvent> json = new ConsoleAppender<>();
    json.setContext(ctx);
    json.setName(JSON_APPENDER);
    json.setEncoder(jsonEncoder(ctx));
    json.start();
    root.addAppender(json);
    root.detachAppender(text);
    text.stop();
  }

  /** The encoder of the JSON format: the formatted message, not its template and arguments. */
  public static JsonEncoder jsonEncoder(LoggerContext ctx) {
    JsonEncoder e = new JsonEncoder();
    e.setContext(ctx);
    e.setWithSequenceNumber(false);
    e.setWithNanoseconds(false);
    e.setWithContext(false);
    e.setWithMessage(false);
    e.setWithArguments(false);
    e.setWithFormattedMessage(true);
    e.start();
    return e;
  }
}
