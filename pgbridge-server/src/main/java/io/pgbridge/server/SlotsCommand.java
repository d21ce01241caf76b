package io.pgbridge.server;

import static io.pgbridge.server.PgBridgeServer.log;

import io.pgbridge.ConfigurationException;
import io.pgbridge.ConnectionException;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code slots list} and {@code slots drop}: the database's replication slots. An abandoned slot keeps WAL on the
 * server for ever, so these show how much each one holds back and drop those no longer wanted.
 */
@Command(
        name = "slots",
        mixinStandardHelpOptions = true,
        description = "Replication slots of the configured database: list them, drop unused ones",
        subcommands = {SlotsCommand.ListSlots.class, SlotsCommand.Drop.class})
final class SlotsCommand {
    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Lists every replication slot: name, plugin, database, whether a client streams from it, "
                    + "and the WAL it holds back")
    static final class ListSlots implements Callable<Integer> {
        @Mixin
        PgBridgeServer.CommonOptions common;

        @Override
        public Integer call() throws SQLException {
            PrintStream out = System.out;
            try (Connection c = Database.connect(common.settings());
                    PreparedStatement ps = c.prepareStatement("SELECT slot_name, coalesce(plugin, ''), slot_type, "
                            + "coalesce(database, ''), active, coalesce(pg_size_pretty(pg_wal_lsn_diff("
                            + "pg_current_wal_lsn(), restart_lsn)), ''), coalesce(wal_status, '') "
                            + "FROM pg_replication_slots ORDER BY slot_name");
                    ResultSet rs = ps.executeQuery()) {
                String format = "%-40s %-14s %-9s %-16s %-7s %-10s %s%n";
                out.printf(format, "SLOT", "PLUGIN", "TYPE", "DATABASE", "ACTIVE", "HOLDS", "WAL_STATUS");
                while (rs.next()) {
                    out.printf(
                            format,
                            rs.getString(1),
                            rs.getString(2),
                            rs.getString(3),
                            rs.getString(4),
                            rs.getBoolean(5) ? "yes" : "no",
                            rs.getString(6),
                            rs.getString(7));
                }
            }
            return PgBridgeServer.OK;
        }
    }

    @Command(
            name = "drop",
            mixinStandardHelpOptions = true,
            description = "Drops replication slots by name. A slot a client streams from is not dropped (stop that "
                    + "bridge first); the changes a dropped slot held are gone for its consumers")
    static final class Drop implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "SLOT", description = "slot names, as slots list shows them")
        List<String> slots;

        @Mixin
        PgBridgeServer.CommonOptions common;

        @Override
        public Integer call() throws SQLException {
            try (Connection c = Database.connect(common.settings())) {
                for (String slot : slots) {
                    drop(c, slot);
                    log.info("Dropped replication slot {}", slot);
                }
            }
            return PgBridgeServer.OK;
        }

        private static void drop(Connection c, String slot) throws SQLException {
            try (PreparedStatement ps =
                    c.prepareStatement("SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, slot);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new ConfigurationException(
                                "replication slot '" + slot + "' does not exist; pgbridge slots list shows them");
                    }
                    if (rs.getBoolean(1)) {
                        throw new ConnectionException("replication slot '" + slot + "' is in use by a client: stop "
                                + "it first (its pid is active_pid in pg_replication_slots)");
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
                ps.setString(1, slot);
                ps.execute();
            } catch (SQLException e) {
                throw new ConnectionException(
                        "PostgreSQL refused to drop replication slot '" + slot + "': " + e.getMessage(), e);
            }
        }
    }
}
