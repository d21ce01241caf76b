package io.pgbridge.server;

import io.pgbridge.PgBridgeConfig;
import io.pgbridge.PgBridgeException;
import io.pgbridge.Route;
import io.pgbridge.Target;
import io.pgbridge.internal.Assembly;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.Sink;
import io.pgbridge.spi.support.Redaction;
import io.pgbridge.sql.PgBridgeSchema;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Checks everything {@code run} needs, without changing anything, and prints one line per check on standard output:
 * {@code ok}, {@code FAIL} (with the fix) or {@code ?} (cannot be checked). The configuration first (a problem there
 * ends the check with exit code 2); then PostgreSQL (connection and credentials, and what each source needs:
 * {@code wal_level}, the REPLICATION attribute, a free slot and WAL sender, the output plugin in
 * {@code output_plugin_libraries}, the publication and the routed tables' replica identity, the pgbridge schema's
 * version); then each sink (reachable, credentials accepted) and every target a route or the dead-letter setting
 * names. Exit code 3 when any check failed, else 0.
 */
@Command(
        name = "check",
        mixinStandardHelpOptions = true,
        description = {
            "Checks the configuration, PostgreSQL (credentials, wal_level, REPLICATION, free slots and WAL senders, "
                    + "output plugin, publication, replica identity, schema version) and each sink (reachable, every "
                    + "exchange/queue/stream/topic a route names exists), changing nothing.",
            "Prints one line per check; exit code 0 all ok, 2 configuration, 3 a check failed."
        })
final class CheckCommand implements Callable<Integer> {
    @Mixin
    PgBridgeServer.CommonOptions common;

    private PrintStream out;
    private int failed;

    @Override
    public Integer call() throws InterruptedException {
        out = System.out;
        PgBridgeConfig settings = common.settings();
        Assembly.Input in = new Assembly.Input();
        in.settings = Settings.of(values(settings));
        Assembly parts = Assembly.build(in);
        Set<Sink> sinks = new LinkedHashSet<>(parts.sinkByRoute.values());
        ok("configuration: " + parts.routes.size() + " route(s), sources "
                + parts.sources.stream().map(EventSource::name).toList() + ", sinks "
                + sinks.stream().map(Sink::name).toList());
        checkPostgres(settings, parts);
        for (Sink sink : sinks) {
            checkSink(sink, parts);
        }
        out.println(failed == 0 ? "All checks passed." : failed + " check(s) failed.");
        return failed == 0 ? PgBridgeServer.OK : PgBridgeServer.DEPENDENCY;
    }

    private static Map<String, String> values(PgBridgeConfig settings) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Setting s : PgBridgeConfig.settings()) {
            if (settings.isSet(s.key())) {
                values.put(s.key(), settings.get(s.key()));
            }
        }
        return values;
    }

    private void checkPostgres(PgBridgeConfig settings, Assembly parts) {
        try (Connection c = Database.connect(settings)) {
            ok("PostgreSQL " + single(c, "SHOW server_version") + " at "
                    + Redaction.redact(settings.get("postgresql.uri")) + ": connected as "
                    + single(c, "SELECT current_user"));
            for (EventSource source : parts.sources) {
                List<String> problems = source.prerequisiteProblems(c);
                problems.forEach(p -> fail("source " + source.name() + ": " + p));
                if (problems.isEmpty()) {
                    ok("source " + source.name() + ": what it needs from PostgreSQL is in place");
                }
                if (source.name().equals("outbox")) {
                    checkSchema(c, settings);
                }
            }
        } catch (PgBridgeException e) {
            fail(e.getMessage());
        } catch (SQLException e) {
            fail(Database.describe(settings, e));
        }
    }

    private void checkSchema(Connection c, PgBridgeConfig settings) throws SQLException {
        String schema = PgBridgeSchema.schema(settings);
        MigrationInfoService info;
        try {
            info = PgBridgeSchema.flyway(PgBridgeSchema.dataSource(settings), schema)
                    .info();
        } catch (FlywayException e) {
            fail("pgbridge schema " + schema + ": cannot read its version: " + Redaction.redact(e.getMessage()));
            return;
        }
        MigrationInfo current = info.current();
        MigrationInfo[] pending = info.pending();
        String at = current == null ? "is not installed" : "is at version " + current.getVersion();
        if (pending.length == 0) {
            ok("pgbridge schema " + schema + " is up to date (version " + (current == null ? "-" : current.getVersion())
                    + ")");
        } else if ("true".equals(single(c, "SELECT has_database_privilege(current_database(), 'CREATE')::text"))) {
            ok("pgbridge schema " + schema + " " + at + "; run installs version "
                    + pending[pending.length - 1].getVersion() + " when it starts (or pgbridge schema migrate)");
        } else {
            fail("pgbridge schema " + schema + " " + at + ", version " + pending[pending.length - 1].getVersion()
                    + " is needed and role " + single(c, "SELECT current_user") + " may not create it (no CREATE on"
                    + " the database): have its owner run pgbridge schema migrate, or apply pgbridge schema sql");
        }
    }

    private void checkSink(Sink sink, Assembly parts) throws InterruptedException {
        try {
            sink.start();
            ok("sink " + sink.name() + ": connected");
            List<Target> targets = new ArrayList<>();
            for (Map.Entry<Route, Sink> e : parts.sinkByRoute.entrySet()) {
                if (e.getValue() == sink && !targets.contains(e.getKey().target())) {
                    targets.add(e.getKey().target());
                }
            }
            if (parts.deadLetterTarget != null) {
                targets.add(parts.deadLetterTarget);
            }
            for (Target target : targets) {
                String what = "sink " + sink.name() + ": " + target.kind() + " '" + target.name() + "'";
                switch (sink.targetExists(target)) {
                    case EXISTS:
                        ok(what + " exists");
                        break;
                    case MISSING:
                        fail(what + " does not exist: create it, or fix the route (every event to it would be "
                                + "retried for ever)");
                        break;
                    default:
                        out.println("?     " + what + ": cannot be checked on this sink");
                }
            }
        } catch (PgBridgeException e) {
            fail("sink " + sink.name() + ": " + e.getMessage());
        } finally {
            sink.close();
        }
    }

    private void ok(String line) {
        out.println("ok    " + line);
    }

    private void fail(String line) {
        failed++;
        for (String part : line.split("\n")) {
            out.println("FAIL  " + part.strip());
        }
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
