package io.pgbridge.server;

import ch.qos.logback.classic.Level;
import io.pgbridge.ConfigurationException;
import io.pgbridge.ConnectionException;
import io.pgbridge.PgBridgeConfig;
import io.pgbridge.SchemaException;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.support.Redaction;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The {@code pgbridge} command: {@code run} (the default), {@code demo}, {@code check}, {@code schema migrate|sql},
 * {@code slots list|drop}, {@code backfill}. Settings come from {@code PGBRIDGE_*} environment variables and/or {@code --config file}
 * (a properties file; the environment wins), checked strictly: an unknown {@code PGBRIDGE_*} variable or key, or a
 * value that does not fit its type, stops the command before anything connects.
 *
 * <p>Exit codes: 0 done; 1 an unexpected failure, or a bridge that failed while running; 2 the configuration or the
 * command line is wrong; 3 a dependency (PostgreSQL, a broker) is unreachable, refuses, or lacks a prerequisite. Each
 * known error is one log line on standard error (its stack trace at {@code --log-level=debug}); standard output
 * carries only events (the logging sink) and command output.
 */
@Command(
        name = "pgbridge",
        mixinStandardHelpOptions = true,
        versionProvider = PgBridgeServer.Version.class,
        sortOptions = false,
        description = {
            "Moves events from PostgreSQL (NOTIFY, logical replication, outbox) to brokers, at least once.",
            "Without a command: run. Settings come from PGBRIDGE_* environment variables and/or --config FILE "
                    + "(the environment wins); with neither, run starts the demo."
        },
        subcommands = {
            RunCommand.class,
            DemoCommand.class,
            CheckCommand.class,
            SchemaCommand.class,
            SlotsCommand.class,
            BackfillCommand.class,
            CommandLine.HelpCommand.class
        })
public final class PgBridgeServer implements Callable<Integer> {
    static final Logger log = LoggerFactory.getLogger("pgbridge");

    /** Exit code of a command that did its work. */
    public static final int OK = 0;
    /** Exit code of an unexpected failure, or of a bridge that failed while running. */
    public static final int FAILED = 1;
    /** Exit code of a wrong configuration or command line. */
    public static final int CONFIGURATION = 2;
    /** Exit code of an unreachable or refusing dependency, or one that lacks a prerequisite. */
    public static final int DEPENDENCY = 3;

    private final Map<String, String> environment;

    @Mixin
    CommonOptions common;

    /** Reads the process environment. */
    public PgBridgeServer() {
        this(System.getenv());
    }

    /** Reads these variables instead of the process environment (for tests and embedding). */
    public PgBridgeServer(Map<String, String> environment) {
        this.environment = Map.copyOf(environment);
    }

    public static void main(String[] args) {
        System.exit(new PgBridgeServer().execute(args));
    }

    /** Runs the command line and returns its exit code; never calls {@link System#exit}. */
    public int execute(String... args) {
        try {
            LogFormat.use(environment.get(ServerSettings.LOG_FORMAT.envName())); // before the first line
        } catch (ConfigurationException e) {
            return failure(e);
        }
        CommandLine cli = new CommandLine(this);
        cli.setExecutionExceptionHandler((e, line, parsed) -> failure(e));
        cli.setParameterExceptionHandler((e, args1) -> {
            log.error("{}; see pgbridge {}--help", e.getMessage(), subcommandPath(e.getCommandLine()));
            return CONFIGURATION;
        });
        cli.getCommandSpec().usageMessage().footer(settingsHelp());
        return cli.execute(args);
    }

    private static String subcommandPath(CommandLine line) {
        String path = "";
        for (CommandLine c = line; c != null && c.getParent() != null; c = c.getParent()) {
            path = c.getCommandName() + " " + path;
        }
        return path;
    }

    @Override
    public Integer call() throws Exception {
        RunCommand run = new RunCommand();
        run.common = common;
        return run.call();
    }

    /**
     * The settings of the environment laid over those of {@code --config}, checked; switches to their log format
     * ({@code log.format} may come from the file).
     */
    PgBridgeConfig settings(CommonOptions options) {
        PgBridgeConfig fromEnvironment = PgBridgeConfig.fromEnvironment(environment);
        PgBridgeConfig settings = options.config == null
                ? fromEnvironment
                : PgBridgeConfig.fromProperties(options.config).overriddenBy(fromEnvironment);
        LogFormat.use(settings.get(ServerSettings.LOG_FORMAT.key()));
        return settings;
    }

    /**
     * Logs a failure as one line per problem and returns its exit code; the stack trace only at DEBUG. Messages are
     * redacted once more: a driver's message may quote a URI.
     */
    static int failure(Throwable e) {
        int code;
        if (e instanceof ConfigurationException) {
            ((ConfigurationException) e).problems().forEach(p -> log.error(p));
            code = CONFIGURATION;
        } else if (e instanceof ConnectionException || e instanceof SchemaException) {
            for (String line : String.valueOf(e.getMessage()).split("\n")) {
                log.error(Redaction.redact(line.strip()));
            }
            code = DEPENDENCY;
        } else {
            log.error("pgbridge failed: {}", Redaction.redact(String.valueOf(e)));
            code = FAILED;
        }
        log.debug("Stack trace", e);
        return code;
    }

    /** The settings section of {@code --help}: every setting with its type, default and meaning. */
    static String settingsHelp() {
        StringBuilder sb = new StringBuilder("%nSettings (environment variable; properties key; type; default):%n");
        for (Setting s : PgBridgeConfig.settings()) {
            sb.append("%n  ").append(s.envName());
            if (!s.aliases().isEmpty()) {
                sb.append(" (also ").append(String.join(", ", s.aliases())).append(')');
            }
            String defaultValue = s.isSecret()
                    ? "secret, no default"
                    : s.defaultValue() == null ? "no default" : "default " + s.defaultValue();
            sb.append("%n      ")
                    .append(s.key())
                    .append("; ")
                    .append(type(s))
                    .append("; ")
                    .append(defaultValue);
            sb.append("%n      ").append(s.description());
        }
        sb.append("%n%nExit codes: 0 done, 1 failed while running, 2 configuration or command line, "
                + "3 a dependency unreachable, refusing or lacking a prerequisite.%n");
        // picocli formats the footer: a '%' of a description or default must stay a '%'
        return sb.toString().replace("%", "%%").replace("%%n", "%n");
    }

    private static String type(Setting s) {
        switch (s.type()) {
            case INTEGER:
                return "integer " + s.min() + ".." + s.max();
            case DURATION_MS:
                return "milliseconds " + s.min() + ".." + s.max();
            case BOOLEAN:
                return "true/false";
            default:
                return "text";
        }
    }

    /** {@code --config} and {@code --log-level}, on every command. */
    static final class CommonOptions {
        /** The command these options are mixed into; its root command is the {@link PgBridgeServer}. */
        @Spec(Spec.Target.MIXEE)
        CommandSpec mixee;

        @Option(
                names = {"-c", "--config"},
                paramLabel = "FILE",
                description = "A properties file with pgbridge settings (keys as in the list below); "
                        + "PGBRIDGE_* environment variables win over it")
        Path config;

        @Option(
                names = "--log-level",
                paramLabel = "LEVEL",
                description = "error, warn, info (default) or debug (adds stack traces)")
        void logLevel(String level) {
            ch.qos.logback.classic.Logger root =
                    (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
            root.setLevel(Level.toLevel(level, Level.INFO));
        }

        /** The command's settings: {@link PgBridgeServer#settings(CommonOptions)} of these options. */
        PgBridgeConfig settings() {
            return ((PgBridgeServer) mixee.root().userObject()).settings(this);
        }
    }

    /** The version from the build, {@code pgbridge 0.1.0}. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"pgbridge " + version()};
        }

        static String version() {
            Properties p = new Properties();
            try (InputStream in = PgBridgeServer.class.getResourceAsStream("version.properties")) {
                p.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return p.getProperty("version");
        }
    }
}
