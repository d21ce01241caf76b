package io.pgbridge.internal.replication;

import io.pgbridge.SchemaException;
import io.pgbridge.internal.config.Identifiers;
import io.pgbridge.spi.Problems;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks what logical replication needs before a source streams, and creates the publication. Every unmet
 * prerequisite is collected and reported at once in one {@link SchemaException}, each with its fix: {@code wal_level},
 * the {@code REPLICATION} attribute, a free slot, the output plugin in {@code output_plugin_libraries}, the routed
 * tables, their replica identity, and an existing slot that does not fit.
 *
 * <p>Publication scope: the routed tables; {@code FOR ALL TABLES} when every table is wanted. A publication that
 * publishes updates makes PostgreSQL refuse UPDATE and DELETE on its tables that have no replica identity key
 * (logical-replication-publication.html), so the check refuses tables without one rather than break the
 * application's writes.
 */
public final class ReplicationSetup {
    private static final Logger log = LoggerFactory.getLogger(ReplicationSetup.class);
    /** PostgreSQL's rule for slot names (ReplicationSlotValidateName). */
    private static final Pattern SLOT_NAME = Pattern.compile("[a-z0-9_]{1,63}");

    private static final int MAX_LISTED = 20;

    /**
     * What a source wants.
     *
     * @param slot the slot name
     * @param plugin the output plugin ({@code pgoutput}, {@code wal2json})
     * @param temporary whether the slot is temporary (created on the replication connection, not here)
     * @param publication the pgoutput publication, or {@code null} when the plugin needs none
     * @param tables routed tables as {@code schema.table}
     * @param allTables whether every table is wanted (a catch-all channel is routed)
     * @param guardDroppedSlot whether a missing slot whose publication pgbridge made for it is an error: the slot was
     *     dropped after a bridge streamed from it, and the changes since are gone from the stream (the WAL source;
     *     the outbox reads them from its table instead)
     */
    public record Spec(
            String slot,
            String plugin,
            boolean temporary,
            String publication,
            Set<String> tables,
            boolean allTables,
            boolean guardDroppedSlot) {
        public Spec {
            tables = Set.copyOf(new LinkedHashSet<>(tables));
        }
    }

    private ReplicationSetup() {}

    /** Why a slot name is not valid, or {@code null}. */
    public static String slotNameProblem(String name) {
        if (name == null || !SLOT_NAME.matcher(name).matches()) {
            return "slot name '" + name + "' must be 1 to 63 lower-case letters, digits or '_' (PostgreSQL's rule)";
        }
        return null;
    }

    /**
     * Checks the prerequisites and creates the publication when it is missing.
     *
     * @return whether the slot exists already (else the caller creates it)
     * @throws SchemaException listing every unmet prerequisite with its fix
     */
    public static boolean prepare(Connection c, Spec spec) throws SQLException {
        Problems problems = new Problems();
        boolean slotExists = check(c, spec, problems);
        List<String> missing = checkTables(c, spec, problems);
        if (!problems.isEmpty()) {
            throw new SchemaException("PostgreSQL is not ready for logical replication (slot " + spec.slot()
                    + "):\n  - " + String.join("\n  - ", problems.list()));
        }
        if (spec.publication() != null) {
            ensurePublication(c, spec, missing);
        }
        return slotExists;
    }

    /**
     * Every unmet prerequisite of {@link #prepare}, each with its fix, without creating or changing anything; plus a
     * free WAL sender. What {@code pgbridge check} reports.
     */
    public static List<String> problems(Connection c, Spec spec) throws SQLException {
        Problems problems = new Problems();
        check(c, spec, problems);
        List<String> notPublished = checkTables(c, spec, problems);
        boolean publicationExists = spec.publication() != null
                && "true"
                        .equals(single(
                                c,
                                "SELECT exists(SELECT 1 FROM pg_publication WHERE pubname = "
                                        + literal(spec.publication()) + ")::text"));
        boolean mustPublish = !notPublished.isEmpty() || (spec.allTables() && !publicationExists);
        if (spec.publication() != null && mustPublish && !canPublish(c, spec, notPublished)) {
            String user = single(c, "SELECT current_user");
            problems.add((publicationExists
                            ? "publication " + spec.publication() + " lacks " + notPublished
                            : "publication " + spec.publication() + " does not exist")
                    + " and role " + user + " may not " + (publicationExists ? "add tables to it" : "create it")
                    + ": that needs "
                    + (spec.allTables()
                            ? "a superuser (FOR ALL TABLES)"
                            : "CREATE on the database" + " and ownership of the tables")
                    + "; have an owner run CREATE PUBLICATION " + Identifiers.quote(spec.publication())
                    + (spec.allTables() ? " FOR ALL TABLES" : " FOR TABLE " + tableList(notPublished)));
        }
        int senders = Integer.parseInt(single(c, "SELECT count(*) FROM pg_stat_replication"));
        int maxSenders = Integer.parseInt(single(c, "SELECT current_setting('max_wal_senders')"));
        if (senders >= maxSenders) {
            problems.add("no free WAL sender (" + senders + " of max_wal_senders=" + maxSenders + " in use): stop an "
                    + "idle replication client or raise max_wal_senders and restart PostgreSQL");
        }
        return problems.list();
    }

    /** wal_level, the REPLICATION attribute, the slot and the output plugin; returns whether the slot exists. */
    private static boolean check(Connection c, Spec spec, Problems problems) throws SQLException {
        String walLevel = single(c, "SELECT current_setting('wal_level')");
        if (!"logical".equals(walLevel)) {
            problems.add("wal_level is '" + walLevel + "', logical decoding needs 'logical': run ALTER SYSTEM SET "
                    + "wal_level = logical and restart PostgreSQL");
        }
        String user = single(c, "SELECT current_user");
        if (!"true"
                .equals(single(
                        c, "SELECT (rolreplication OR rolsuper)::text FROM pg_roles WHERE rolname = current_user"))) {
            problems.add("role " + user + " lacks the REPLICATION attribute: run ALTER ROLE " + Identifiers.quote(user)
                    + " REPLICATION (as a superuser)");
        }
        boolean slotExists = checkSlot(c, spec, problems);
        checkPlugin(c, spec.plugin(), problems);
        return slotExists;
    }

    private static boolean checkSlot(Connection c, Spec spec, Problems problems) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT plugin, database, current_database(), wal_status FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, spec.slot());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    if (spec.temporary()) {
                        problems.add("slot " + spec.slot() + " exists, but a temporary slot of that name is wanted: "
                                + "choose another slot name or drop it (SELECT pg_drop_replication_slot('" + spec.slot()
                                + "'))");
                    } else if (!spec.plugin().equals(rs.getString(1))) {
                        problems.add("slot " + spec.slot() + " uses output plugin " + rs.getString(1) + ", not "
                                + spec.plugin() + ": choose another slot name or drop it (SELECT "
                                + "pg_drop_replication_slot('" + spec.slot() + "'))");
                    } else if (!rs.getString(3).equals(rs.getString(2))) {
                        problems.add("slot " + spec.slot() + " belongs to database " + rs.getString(2) + ", not "
                                + rs.getString(3) + ": choose another slot name");
                    } else if ("lost".equals(rs.getString(4))) {
                        problems.add("slot " + spec.slot() + " was invalidated (wal_status 'lost'; "
                                + "max_slot_wal_keep_size exceeded): the changes it held are gone. Drop it (SELECT "
                                + "pg_drop_replication_slot('" + spec.slot() + "')), restart, and resynchronise "
                                + "consumers");
                    }
                    return true;
                }
            }
        }
        if (spec.guardDroppedSlot() && !spec.temporary() && madeForSlot(c, spec)) {
            problems.add("slot " + spec.slot() + " is missing, but publication " + spec.publication()
                    + " was made by pgbridge for it: the slot was dropped after a bridge streamed from it, so the "
                    + "changes made since then can no longer be streamed. To start again from now, knowingly skipping "
                    + "them, drop the publication (DROP PUBLICATION " + Identifiers.quote(spec.publication()) + ")");
        }
        int used = Integer.parseInt(single(c, "SELECT count(*) FROM pg_replication_slots"));
        int max = Integer.parseInt(single(c, "SELECT current_setting('max_replication_slots')"));
        if (used >= max) {
            problems.add("no free replication slot (" + used + " of max_replication_slots=" + max + " used): drop "
                    + "unused slots (SELECT slot_name FROM pg_replication_slots WHERE NOT active) or raise "
                    + "max_replication_slots and restart PostgreSQL");
        }
        return false;
    }

    /** Whether the publication carries the comment pgbridge writes when it creates it for this slot. */
    private static boolean madeForSlot(Connection c, Spec spec) throws SQLException {
        if (spec.publication() == null) {
            return false;
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT obj_description(oid, 'pg_publication') FROM pg_publication WHERE pubname = ?")) {
            ps.setString(1, spec.publication());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && marker(spec.slot()).equals(rs.getString(1));
            }
        }
    }

    private static String marker(String slot) {
        return "pgbridge: streamed through replication slot " + slot;
    }

    /**
     * The comment of a publication pgbridge created for a slot that does not exist yet. Only once the slot exists is it
     * replaced by {@link #marker}: a start interrupted between creating the publication and the slot leaves this one,
     * and the next start creates the slot instead of refusing it as dropped.
     */
    private static String pendingMarker(String slot) {
        return "pgbridge: made for replication slot " + slot + " (not created yet)";
    }

    /**
     * The slot of {@code spec} exists: a publication pgbridge created for it (still carrying the comment of a slot not
     * created yet) now says it is streamed through that slot, so that a later loss of the slot is recognised. Call it
     * at every start once the slot exists (a crash may have come between creating the slot and this).
     */
    public static void slotCreated(Connection c, Spec spec) throws SQLException {
        if (spec.publication() == null || spec.temporary()) {
            return;
        }
        String comment;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT obj_description(oid, 'pg_publication') FROM pg_publication WHERE pubname = ?")) {
            ps.setString(1, spec.publication());
            try (ResultSet rs = ps.executeQuery()) {
                comment = rs.next() ? rs.getString(1) : null;
            }
        }
        if (pendingMarker(spec.slot()).equals(comment)) {
            try (Statement st = c.createStatement()) {
                st.execute("COMMENT ON PUBLICATION " + Identifiers.quote(spec.publication()) + " IS "
                        + literal(marker(spec.slot())));
            }
        }
    }

    /** Whether the current role may create the publication, or add these tables to it. */
    private static boolean canPublish(Connection c, Spec spec, List<String> tables) throws SQLException {
        if ("true".equals(single(c, "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user"))) {
            return true;
        }
        if (spec.allTables()
                || !"true".equals(single(c, "SELECT has_database_privilege(current_database(), 'CREATE')::text"))) {
            return false;
        }
        for (String qualified : tables) {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_has_role(current_user, c.relowner, 'USAGE') "
                    + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND "
                    + "c.relname = ?")) {
                ps.setString(1, qualified.substring(0, qualified.indexOf('.')));
                ps.setString(2, qualified.substring(qualified.indexOf('.') + 1));
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && !rs.getBoolean(1)) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private static void checkPlugin(Connection c, String plugin, Problems problems) throws SQLException {
        String allowed;
        try (Statement st = c.createStatement();
                ResultSet rs =
                        st.executeQuery("SELECT setting FROM pg_settings WHERE name = 'output_plugin_libraries'")) {
            if (!rs.next()) {
                return; // a server from before the setting: every installed plugin is allowed
            }
            allowed = rs.getString(1);
        }
        for (String lib : allowed.split(",")) {
            if (lib.trim().replace("\"", "").replace("'", "").equals(plugin)) {
                return;
            }
        }
        problems.add("output plugin " + plugin + " is not in output_plugin_libraries ('" + allowed + "'): add it, "
                + "e.g. ALTER SYSTEM SET output_plugin_libraries = "
                + (allowed.isBlank() ? "'" + plugin + "'" : "'" + allowed + ", " + plugin + "'")
                + ", then reload PostgreSQL (SELECT pg_reload_conf())");
    }

    /** Returns the routed tables the publication does not hold yet (all of them when it does not exist). */
    private static List<String> checkTables(Connection c, Spec spec, Problems problems) throws SQLException {
        List<String> notPublished = new ArrayList<>();
        for (String qualified : spec.tables()) {
            int dot = qualified.indexOf('.');
            String schema = qualified.substring(0, dot);
            String table = qualified.substring(dot + 1);
            try (PreparedStatement ps = c.prepareStatement("SELECT c.relreplident, c.relkind, "
                    + "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary), "
                    + "EXISTS (SELECT 1 FROM pg_publication_tables p WHERE p.pubname = ? AND p.schemaname = n.nspname "
                    + "AND p.tablename = c.relname) "
                    + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    + "WHERE n.nspname = ? AND c.relname = ?")) {
                ps.setString(1, spec.publication() == null ? "" : spec.publication());
                ps.setString(2, schema);
                ps.setString(3, table);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        problems.add("table " + qualified + " (a routed channel) does not exist: create it, or fix "
                                + "the route");
                        continue;
                    }
                    String kind = rs.getString(2);
                    if (!kind.equals("r") && !kind.equals("p")) {
                        problems.add(qualified + " (a routed channel) is not a table (relkind '" + kind + "'): only "
                                + "tables have row changes in the WAL");
                        continue;
                    }
                    String problem = identityProblem(qualified, rs.getString(1).charAt(0), rs.getBoolean(3));
                    if (problem != null) {
                        problems.add(problem);
                    }
                    if (!rs.getBoolean(4)) {
                        notPublished.add(qualified);
                    }
                }
            }
        }
        if (spec.allTables() && spec.publication() != null) {
            List<String> keyless = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT n.nspname || '.' || c.relname FROM pg_class c "
                    + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
                    + "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                    + "AND n.nspname NOT LIKE 'pg\\_toast%' AND (c.relreplident = 'n' OR (c.relreplident = 'd' "
                    + "AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))) "
                    + "AND NOT EXISTS (SELECT 1 FROM pg_publication p WHERE p.pubname = ?) ORDER BY 1")) {
                ps.setString(1, spec.publication());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        keyless.add(rs.getString(1));
                    }
                }
            }
            if (!keyless.isEmpty()) {
                problems.add("a publication FOR ALL TABLES (wal2json is routed) would make UPDATE and DELETE fail on "
                        + keyless.size() + " table(s) without a replica identity key: "
                        + String.join(", ", keyless.subList(0, Math.min(MAX_LISTED, keyless.size())))
                        + (keyless.size() > MAX_LISTED ? ", ..." : "")
                        + "; add primary keys or ALTER TABLE ... REPLICA IDENTITY FULL, or create publication "
                        + spec.publication() + " yourself with the tables you want");
            }
        }
        return notPublished;
    }

    private static String identityProblem(String table, char identity, boolean hasPrimaryKey) {
        if (identity == 'n' || (identity == 'd' && !hasPrimaryKey)) {
            return "table " + table + " has no replica identity key ("
                    + (identity == 'n' ? "REPLICA IDENTITY NOTHING" : "no primary key")
                    + "): UPDATE and DELETE on it would fail once it is published, and their "
                    + "events could not name the row. Add a primary key, or run ALTER TABLE " + table
                    + " REPLICA IDENTITY FULL";
        }
        return null;
    }

    private static void ensurePublication(Connection c, Spec spec, List<String> notPublished) throws SQLException {
        String pub = Identifiers.quote(spec.publication());
        String allTables;
        try (PreparedStatement ps =
                c.prepareStatement("SELECT puballtables::text FROM pg_publication WHERE pubname = ?")) {
            ps.setString(1, spec.publication());
            try (ResultSet rs = ps.executeQuery()) {
                allTables = rs.next() ? rs.getString(1) : null;
            }
        }
        try (Statement st = c.createStatement()) {
            if (allTables == null) {
                String scope = spec.allTables() ? "FOR ALL TABLES" : "FOR TABLE " + tableList(spec.tables());
                st.execute("CREATE PUBLICATION " + pub + " " + scope);
                st.execute("COMMENT ON PUBLICATION " + pub + " IS " + literal(pendingMarker(spec.slot())));
                log.info("Created publication {} {}", spec.publication(), scope);
            } else if (allTables.startsWith("f") && !notPublished.isEmpty()) {
                st.execute("ALTER PUBLICATION " + pub + " ADD TABLE " + tableList(notPublished));
                log.info("Added {} to publication {}", notPublished, spec.publication());
            }
        } catch (SQLException e) {
            throw new SchemaException(
                    "Cannot create or extend publication " + spec.publication() + " ("
                            + e.getMessage()
                            + "): creating a publication needs CREATE on the database and ownership of "
                            + "the tables (FOR ALL TABLES needs a superuser); create it yourself and name it in "
                            + "PGBRIDGE_WAL_PUBLICATION",
                    e);
        }
    }

    private static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    private static String tableList(Iterable<String> tables) {
        List<String> quoted = new ArrayList<>();
        for (String t : tables) {
            int dot = t.indexOf('.');
            quoted.add(Identifiers.quote(t.substring(0, dot)) + '.' + Identifiers.quote(t.substring(dot + 1)));
        }
        return String.join(", ", quoted);
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            if (!rs.next()) {
                throw new SQLException("no row from " + sql.toLowerCase(Locale.ROOT));
            }
            return rs.getString(1);
        }
    }
}
