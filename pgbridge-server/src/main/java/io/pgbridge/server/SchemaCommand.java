package io.pgbridge.server;

import static io.pgbridge.server.PgBridgeServer.log;

import io.pgbridge.ConfigurationException;
import io.pgbridge.PgBridgeConfig;
import io.pgbridge.sql.PgBridgeSchema;
import java.io.PrintStream;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code schema migrate} and {@code schema sql}: the pgbridge schema (outbox, subscriptions) from pgbridge-sql. */
@Command(
        name = "schema",
        mixinStandardHelpOptions = true,
        description = "The pgbridge schema (outbox table, send(), subscriptions): install or upgrade it, or print its "
                + "SQL",
        subcommands = {SchemaCommand.Migrate.class, SchemaCommand.Sql.class})
final class SchemaCommand {
    @Command(
            name = "migrate",
            mixinStandardHelpOptions = true,
            description = "Installs or upgrades the pgbridge schema (PGBRIDGE_OUTBOX_SCHEMA, default pgbridge) in the "
                    + "configured database; safe to run from several places at once (Flyway's advisory lock)")
    static final class Migrate implements Callable<Integer> {
        @Mixin
        PgBridgeServer.CommonOptions common;

        @Override
        public Integer call() throws SQLException {
            PgBridgeConfig settings = common.settings();
            Database.connect(settings).close(); // one clear connection error before Flyway's
            int applied = PgBridgeSchema.migrate(settings);
            log.info(
                    "pgbridge schema {} is up to date ({} script(s) applied)",
                    PgBridgeSchema.schema(settings),
                    applied);
            return PgBridgeServer.OK;
        }
    }

    @Command(
            name = "sql",
            mixinStandardHelpOptions = true,
            description = "Prints the schema's SQL scripts in order, with the schema name filled in, for a DBA to "
                    + "review or apply by hand (then pgbridge never migrates there: Flyway's history stays empty)")
    static final class Sql implements Callable<Integer> {
        @Option(
                names = "--schema",
                paramLabel = "NAME",
                description = "The schema name (default: PGBRIDGE_OUTBOX_SCHEMA, else pgbridge)")
        String schema;

        @Mixin
        PgBridgeServer.CommonOptions common;

        @Override
        public Integer call() {
            String name = schema != null ? schema : PgBridgeSchema.schema(common.settings());
            Map<String, String> scripts;
            try {
                scripts = PgBridgeSchema.scripts(name);
            } catch (IllegalArgumentException e) {
                throw new ConfigurationException("--schema " + e.getMessage());
            }
            PrintStream out = System.out;
            scripts.forEach((file, sql) -> {
                out.println("-- " + file);
                out.println(sql.strip());
                out.println();
            });
            return PgBridgeServer.OK;
        }
    }
}
