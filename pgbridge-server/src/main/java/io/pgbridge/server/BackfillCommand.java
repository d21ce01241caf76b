package io.pgbridge.server;

import static io.pgbridge.server.PgBridgeServer.log;

import io.pgbridge.ConfigurationException;
import io.pgbridge.PgBridgeConfig;
import io.pgbridge.SchemaException;
import io.pgbridge.WalOptions;
import io.pgbridge.internal.config.Identifiers;
import java.io.PrintStream;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code backfill TABLE}: asks a running bridge for an online backfill of a table by inserting a row into the backfill
 * requests table ({@code wal.backfill-requests}, default {@code pgbridge.backfill_requests}, created by the pgbridge
 * schema), which every running bridge with a WAL source polls once a second; then prints the request's progress, which
 * the bridge that took it writes back into the row, until it ends. Also {@code --follow ID} and {@code --cancel ID}.
 *
 * <p>Exit codes: 0 the backfill is done (or, with {@code --no-wait}, the request is in); 1 it failed, was cancelled or
 * stopped (the bridge closed; it resumes when the bridge starts again); 2 a wrong command line or setting; 3 the
 * database refuses, lacks the requests table, the table or its primary key, or no running bridge took the request
 * within {@code --pickup-timeout} (the request then expires, and the reasons of the bridges that saw it are printed).
 */
@Command(
        name = "backfill",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Asks a running bridge to send a table's rows again (an online backfill, docs/wal.md), prints the request's "
                    + "id, then its progress until it ends.",
            "The request goes into the table of wal.backfill-requests (default pgbridge.backfill_requests, installed by "
                    + "pgbridge schema migrate); a running bridge whose WAL routes take the table takes it within a "
                    + "second and writes its progress back there (SELECT * FROM pgbridge.backfill_requests shows it). "
                    + "Ctrl-C stops following, not the backfill."
        })
final class BackfillCommand implements Callable<Integer> {
    /** How often the request's row is read while following it. */
    private static final Duration POLL = Duration.ofSeconds(1);
    /** The least time between two progress lines while the state does not change. */
    private static final Duration PRINT_EVERY = Duration.ofSeconds(5);

    @Parameters(
            arity = "0..1",
            paramLabel = "TABLE",
            description =
                    "schema.table to backfill; a WAL route of the bridge must take it, and it needs a primary key")
    String table;

    @Option(
            names = "--where",
            paramLabel = "CONDITION",
            description = "SQL condition on the table's columns selecting the rows to send (default: every row); "
                    + "the bridge runs it as written")
    String where;

    @Option(
            names = "--slot",
            paramLabel = "SLOT",
            description = "Only the bridge streaming from this replication slot may take the request (default: the "
                    + "first running bridge whose routes take the table)")
    String slot;

    @Option(names = "--no-wait", description = "Print the request's id and return at once")
    boolean noWait;

    @Option(
            names = "--pickup-timeout",
            paramLabel = "SECONDS",
            defaultValue = "30",
            description = "How long a running bridge has to take the request before it expires (default "
                    + "${DEFAULT-VALUE})")
    int pickupTimeoutSeconds;

    @Option(names = "--follow", paramLabel = "ID", description = "Follow an earlier request instead of making one")
    Long follow;

    @Option(
            names = "--cancel",
            paramLabel = "ID",
            description = "Cancel a pending or running request (the backfill stops after its chunk in flight and is "
                    + "not resumed), then follow it until it ended")
    Long cancel;

    @Mixin
    PgBridgeServer.CommonOptions common;

    @Override
    public Integer call() throws SQLException, InterruptedException {
        int given = (table != null ? 1 : 0) + (follow != null ? 1 : 0) + (cancel != null ? 1 : 0);
        if (given != 1) {
            throw new ConfigurationException(
                    "backfill takes one of TABLE, --follow ID or --cancel ID; see pgbridge " + "backfill --help");
        }
        if (pickupTimeoutSeconds < 1) {
            throw new ConfigurationException("--pickup-timeout must be at least 1 second");
        }
        PgBridgeConfig settings = common.settings();
        String requests = requestsTable(settings);
        try (Connection c = Database.connect(settings)) {
            checkRequestsTable(c, requests);
            long id;
            if (table != null) {
                id = request(c, requests);
            } else if (cancel != null) {
                id = cancel;
                requestCancel(c, requests, id);
            } else {
                id = follow;
            }
            if (noWait) {
                System.out.println(id);
                return PgBridgeServer.OK;
            }
            return follow(c, requests, id);
        }
    }

    /** The requests table of the settings, quoted: {@code "schema"."table"}. */
    private static String requestsTable(PgBridgeConfig settings) {
        String name = settings.get("wal.backfill-requests");
        name = name == null ? WalOptions.DEFAULT_BACKFILL_REQUESTS : name.trim();
        if (name.equals(WalOptions.NO_BACKFILL_REQUESTS)) {
            throw new ConfigurationException("PGBRIDGE_WAL_BACKFILL_REQUESTS is none: the bridges take no backfill "
                    + "requests; set it to the requests table (default " + WalOptions.DEFAULT_BACKFILL_REQUESTS + ")");
        }
        int dot = name.indexOf('.');
        if (dot < 0
                || Identifiers.problem("schema", name.substring(0, dot)) != null
                || Identifiers.problem("table", name.substring(dot + 1)) != null) {
            throw new ConfigurationException(
                    "PGBRIDGE_WAL_BACKFILL_REQUESTS '" + name + "' must be schema.table, lower case");
        }
        return Identifiers.quote(name.substring(0, dot)) + '.' + Identifiers.quote(name.substring(dot + 1));
    }

    private static void checkRequestsTable(Connection c, String requests) throws SQLException {
        if (!exists(c, requests)) {
            throw new SchemaException("table " + requests.replace("\"", "") + " does not exist: install the pgbridge "
                    + "schema (pgbridge schema migrate; version 7 or later), or set PGBRIDGE_WAL_BACKFILL_REQUESTS "
                    + "to where it is. Running bridges find it within a second");
        }
    }

    /** Checks the table, inserts the request; returns its id. */
    private long request(Connection c, String requests) throws SQLException {
        String name = table.trim();
        if (name.indexOf('.') < 1) {
            throw new ConfigurationException("TABLE '" + name + "' must be schema.table, e.g. public.orders");
        }
        if (!exists(c, name)) {
            throw new SchemaException("table " + name + " does not exist in the configured database");
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = to_regclass(?) AND indisprimary)")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    throw new SchemaException("table " + name + " has no primary key: a backfill reads it in "
                            + "primary-key order and drops the rows changed while a chunk is read by their key; "
                            + "ALTER TABLE " + name + " ADD PRIMARY KEY (...)");
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO " + requests + " (table_name, filter, slot) VALUES (?, ?, ?) RETURNING id")) {
            ps.setString(1, name);
            ps.setString(2, where == null || where.isBlank() ? null : where);
            ps.setString(3, slot);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long id = rs.getLong(1);
                log.info(
                        "Backfill request {}: {}{}{}",
                        id,
                        name,
                        where == null || where.isBlank() ? "" : " where " + where,
                        slot == null ? "" : ", for the bridge on slot " + slot);
                return id;
            }
        }
    }

    private static void requestCancel(Connection c, String requests, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + requests + " SET cancel_requested = true, "
                + "state = CASE WHEN state = 'pending' THEN 'cancelled' ELSE state END, updated_at = now() "
                + "WHERE id = ? RETURNING state")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new ConfigurationException("there is no backfill request " + id);
                }
                log.info("Backfill request {} ({}): cancel requested", id, rs.getString(1));
            }
        }
    }

    /** Prints the request's progress until it ends; returns the command's exit code. */
    private int follow(Connection c, String requests, long id) throws SQLException, InterruptedException {
        PrintStream out = System.out;
        long since = System.nanoTime();
        long printed = 0;
        String lastLine = null;
        String lastState = null;
        while (true) {
            Request r = read(c, requests, id);
            if (r == null) {
                throw new ConfigurationException("there is no backfill request " + id);
            }
            String line = r.describe();
            long now = System.nanoTime();
            if (!r.state().equals(lastState) || (!line.equals(lastLine) && now - printed >= PRINT_EVERY.toNanos())) {
                out.println(line);
                printed = now;
                lastLine = line;
                lastState = r.state();
            }
            switch (r.state()) {
                case "done":
                    return PgBridgeServer.OK;
                case "pending":
                    if (now - since > Duration.ofSeconds(pickupTimeoutSeconds).toNanos() && expire(c, requests, id)) {
                        throw new SchemaException(noBridge(id, r.declined()));
                    }
                    break;
                case "running":
                    break;
                case "stopped":
                    log.error(
                            "Backfill request {} stopped: the bridge on slot {} closed; it resumes the backfill from "
                                    + "its last confirmed chunk when it starts again (pgbridge backfill --follow {})",
                            id,
                            r.takenBy(),
                            id);
                    return PgBridgeServer.FAILED;
                case "expired":
                    throw new SchemaException(noBridge(id, r.declined()));
                case "cancelled":
                    if (cancel != null) {
                        return PgBridgeServer.OK;
                    }
                    log.error("Backfill request {} was cancelled", id);
                    return PgBridgeServer.FAILED;
                default:
                    log.error("Backfill request {} {}{}", id, r.state(), r.error() == null ? "" : ": " + r.error());
                    return PgBridgeServer.FAILED;
            }
            Thread.sleep(POLL.toMillis()); // the poll interval of the request's row
        }
    }

    private String noBridge(long id, List<String> declined) {
        return "no running bridge took backfill request " + id + " within " + pickupTimeoutSeconds + " s, so it "
                + "expired: "
                + (declined.isEmpty()
                        ? "none saw it; is a bridge with a WAL source running against this database"
                                + (slot == null ? "" : " on slot " + slot) + ", with PGBRIDGE_WAL_BACKFILL_REQUESTS "
                                + "naming this table?"
                        : "the running bridges cannot take it: " + String.join("; ", declined));
    }

    private static boolean expire(Connection c, String requests, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + requests + " SET state = 'expired', error = 'no "
                + "running bridge took it in time', updated_at = now() WHERE id = ? AND state = 'pending'")) {
            ps.setLong(1, id);
            return ps.executeUpdate() == 1;
        }
    }

    private static boolean exists(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        } catch (SQLException e) {
            if ("42602".equals(e.getSQLState()) || "3F000".equals(e.getSQLState())) {
                return false; // an invalid name, or a schema that does not exist
            }
            throw e;
        }
    }

    /** One request's row. */
    private record Request(
            String name,
            String state,
            String takenBy,
            long rows,
            long chunks,
            Long totalRows,
            double percent,
            double rowsPerSecond,
            String error,
            List<String> declined) {
        String describe() {
            String head = "backfill request " + name + ": " + state;
            return switch (state) {
                case "pending" -> head + ", waiting for a running bridge to take it";
                case "running", "done", "stopped", "cancelled", "failed" ->
                    head
                            + (takenBy == null ? "" : " (slot " + takenBy + ")")
                            + ", " + rows + (totalRows == null ? "" : " of " + totalRows) + " rows ("
                            + String.format(Locale.ROOT, "%.1f", percent) + "%) in " + chunks + " chunks, "
                            + Math.round(rowsPerSecond) + " rows/s"
                            + (error == null ? "" : "; " + error);
                default -> head + (error == null ? "" : ": " + error);
            };
        }
    }

    private static Request read(Connection c, String requests, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT table_name, state, taken_by, rows, chunks, total_rows, "
                + "percent, rows_per_second, error, declined FROM " + requests + " WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                long total = rs.getLong(6);
                Long totalRows = rs.wasNull() ? null : total;
                Array declined = rs.getArray(10);
                return new Request(
                        id + " (" + rs.getString(1) + ")",
                        rs.getString(2),
                        rs.getString(3),
                        rs.getLong(4),
                        rs.getLong(5),
                        totalRows,
                        rs.getDouble(7),
                        rs.getDouble(8),
                        rs.getString(9),
                        declined == null ? List.of() : List.of((String[]) declined.getArray()));
            }
        }
    }
}
