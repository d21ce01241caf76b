package io.pgbridge.server;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import io.pgbridge.ConfigurationException;
import io.pgbridge.spi.Settings;
import java.util.Locale;
import net.logstash.logback.encoder.LogstashEncoder;
import org.slf4j.LoggerFactory;

/**
 * Switches the encoder of the {@code STDERR} appender of {@code logback.xml}: {@link #TEXT} keeps its pattern,
 * {@link #JSON} writes one JSON object per log event and line (logstash-logback-encoder's fields: {@code @timestamp},
 * {@code level}, {@code logger_name}, {@code thread_name}, {@code message}, {@code stack_trace}). Log lines stay on
 * standard error either way. Called from the command's thread before a bridge starts.
 */
final class LogFormat {
    static final String TEXT = "text";
    static final String JSON = "json";

    private static Encoder<ILoggingEvent> textEncoder; // logback.xml's, kept to switch back (tests run in one JVM)

    private LogFormat() {}

    /**
     * Uses the format named by {@code log.format}, text when unset.
     *
     * @throws ConfigurationException when the value is neither {@code text} nor {@code json}; the text format is in
     *     use then, so that the error reads as every other
     */
    static synchronized void use(String format) {
        String name = format == null ? TEXT : format.strip().toLowerCase(Locale.ROOT);
        if (!name.equals(TEXT) && !name.equals(JSON)) {
            use(TEXT);
            throw new ConfigurationException(Settings.problem(
                    ServerSettings.LOG_FORMAT, format, "is not a log format; use text (the default) or json"));
        }
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        @SuppressWarnings("unchecked")
        OutputStreamAppender<ILoggingEvent> stderr = (OutputStreamAppender<ILoggingEvent>) root.getAppender("STDERR");
        if (stderr == null) { // a config/logback.xml edited without it
            if (name.equals(JSON)) {
                throw new ConfigurationException(ServerSettings.LOG_FORMAT.envName() + "=json needs the appender "
                        + "named STDERR of the shipped config/logback.xml; restore it, or set a JSON encoder in your "
                        + "logback.xml and leave " + ServerSettings.LOG_FORMAT.envName() + " unset");
            }
            return;
        }
        if (textEncoder == null) {
            textEncoder = stderr.getEncoder();
        }
        Encoder<ILoggingEvent> encoder = textEncoder;
        if (name.equals(JSON)) {
            if (stderr.getEncoder() instanceof LogstashEncoder) {
                return;
            }
            LogstashEncoder json = new LogstashEncoder();
            json.setContext(context);
            json.start();
            encoder = json;
        } else if (stderr.getEncoder() == textEncoder) {
            return;
        }
        stderr.stop();
        stderr.setEncoder(encoder);
        stderr.start();
    }
}
