package io.vaultmfa.operator.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/** Keeps every log line of the JVM (all levels), with stack traces, for hygiene checks. */
public final class LogCapture extends AppenderBase<ILoggingEvent> {

  private final List<String> lines = new CopyOnWriteArrayList<>();

  public static LogCapture install() {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    LogCapture c = new LogCapture();
    c.setContext(ctx);
    c.start();
    Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(c);
    return c;
  }

  @Override
  protected void append(ILoggingEvent e) {
    StringBuilder b =
        new StringBuilder(e.getLoggerName()).append(' ').append(e.getFormattedMessage());
    var t = e.getThrowableProxy();
    while (t != null) {
      b.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
      t = t.getCause();
    }
    lines.add(b.toString());
  }

  public String all() {
    return String.join("\n", lines);
  }

  public void uninstall() {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(this);
    stop();
  }
}
