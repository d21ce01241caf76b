package io.pgbridge.internal.outbox;

import io.pgbridge.SchemaException;
import io.pgbridge.internal.config.Identifiers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The SQL the outbox source runs against the pgbridge schema (installed by {@code PgBridgeSchema.migrate} in
 * pgbridge-sql, which the core does not depend on). The schema name is quoted once here; values are bind parameters.
 */
final class OutboxTables {
    private final String schema;
    private final String q;

    OutboxTables(String schema) {
        this.schema = schema;
        this.q = Identifiers.quote(schema);
    }

    String schema() {
        return schema;
    }

    /** The replication slot (and publication) of a stream in streaming mode, unless configured. */
    String defaultSlot(long streamId) {
        String prefix = schema.length() > 40 ? schema.substring(0, 40) : schema;
        return prefix + "_outbox_" + streamId;
    }

    /** The NOTIFY channel that wakes a polling bridge of this stream; at most 63 bytes. */
    String wakeupChannel(long streamId) {
        String prefix = schema.length() > 40 ? schema.substring(0, 40) : schema;
        return prefix + "_wakeup_" + streamId;
    }

    /**
     * The lock timeout of every statement pgbridge runs on outbox objects (partition maintenance's steps use {@link
     * #DDL_LOCK_TIMEOUT}), so that a lock pgbridge waits for (an application transaction holds it) never queues the
     * application's own writes behind pgbridge for longer: the statement fails with SQLSTATE {@value
     * #LOCK_NOT_AVAILABLE} and is retried later.
     */
    static final String LOCK_TIMEOUT = "200ms";

    /** SQLSTATE of a statement that gave up waiting for a lock ({@code lock_not_available}). */
    static final String LOCK_NOT_AVAILABLE = "55P03";

    /**
     * The lock timeout of partition maintenance's steps. Dropping a partition needs ACCESS EXCLUSIVE on the events
     * table: while that request waits, every insert queues behind it, so it waits only this long (the application's
     * own transactions that hold the table are usually shorter) and is tried again after a pause.
     */
    static final String DDL_LOCK_TIMEOUT = "10ms";

    /** Sets {@link #LOCK_TIMEOUT} for the session of a connection that only pgbridge uses. */
    static void limitLockWaits(Connection c) throws SQLException {
        limitLockWaits(c, LOCK_TIMEOUT);
    }

    /**
     * Sets {@link #LOCK_TIMEOUT} for the session of a newly opened connection that only pgbridge uses and returns it;
     * if that fails, closes the connection and throws. Meant for connections kept open across calls.
     */
    static Connection limitingLockWaits(Connection c) throws SQLException {
        try {
            limitLockWaits(c);
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** Sets a lock timeout (a PostgreSQL duration such as {@code 10ms}) for the session of a pgbridge connection. */
    static void limitLockWaits(Connection c, String timeout) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("set lock_timeout = '" + timeout + "'");
        }
    }

    /** Whether a statement failed because it gave up waiting for a lock. */
    static boolean lockNotAvailable(SQLException e) {
        return LOCK_NOT_AVAILABLE.equals(e.getSQLState());
    }

    /**
     * Claims the oldest events of a stream that carry no live lease, for one lease (parameters: lease milliseconds,
     * claim token, stream id, batch size); rows another claim holds locked at that moment are skipped. Meant to commit
     * at once: the lease, not a transaction, keeps the rows from other bridges. Rows come back in no particular order.
     */
    String claim() {
        return "update " + q + ".events e set claimed_until = clock_timestamp() + make_interval(secs => ? / 1000.0),"
                + " claimed_by = ?::uuid from (select c.id, c.created_at from " + q + ".events c where c.stream_id = ?"
                + " and (c.claimed_until is null or c.claimed_until < clock_timestamp()) order by c.id limit ?"
                + " for update skip locked) c where e.id = c.id and e.created_at = c.created_at returning "
                + OutboxRows.SELECT_LIST;
    }

    /**
     * Extends the lease of claimed events still held under a claim token (parameters: lease milliseconds, stream id,
     * claim token, ids); returns the ids renewed.
     */
    String renewLease() {
        return "update " + q + ".events set claimed_until = clock_timestamp() + make_interval(secs => ? / 1000.0)"
                + " where stream_id = ? and claimed_by = ?::uuid and id = any(?) returning id";
    }

    /** Gives up the lease of claimed events still held under a claim token (parameters: stream id, token, ids). */
    String releaseLease() {
        return "update " + q + ".events set claimed_until = null, claimed_by = null where stream_id = ? and"
                + " claimed_by = ?::uuid and id = any(?)";
    }

    /**
     * The backlog of a stream after an id, in id order, at most a number of them: {@link OutboxRows#SELECT_LIST}
     * (null when the event is no longer in the table), then the backlog's event id.
     */
    String backlog() {
        return "select " + OutboxRows.SELECT_LIST + ", b.event_id from " + q + ".backlog b left join " + q
                + ".events e on e.stream_id = b.stream_id and e.id = b.event_id where b.stream_id = ?"
                + " and b.event_id > ? order by b.event_id limit ?";
    }

    /** Forgets backlog events every sink confirmed (or that were dead-lettered, or are gone). */
    String backlogDelivered() {
        return "delete from " + q + ".backlog where stream_id = ? and event_id = any(?)";
    }

    /** Whether a stream has backlog events left to read. */
    String hasBacklog() {
        return "select exists (select 1 from " + q + ".backlog where stream_id = ?)";
    }

    String clearBacklog() {
        return "delete from " + q + ".backlog where stream_id = ?";
    }

    /** In the snapshot a new slot exported: the events of the stream it sees are its backlog. */
    String recordBacklog() {
        return "insert into " + q + ".backlog (stream_id, event_id) select e.stream_id, e.id from " + q
                + ".events e where e.stream_id = ? on conflict do nothing";
    }

    /** Records that a stream's slot is complete (its backlog is recorded), at its consistent point. */
    String recordNewSlot() {
        return "insert into " + q + ".checkpoints (stream_id, slot_name, commit_lsn) values (?, ?, ?::pg_lsn)"
                + " on conflict (stream_id) do update set slot_name = excluded.slot_name, commit_lsn ="
                + " excluded.commit_lsn, event_id = null, failover_since = null, confirmed_lsn = null,"
                + " updated_at = now()";
    }

    /** Whether checkpoints records a stream's slot (one row), with a backlog id of an older version (or null). */
    String slotRecord() {
        return "select event_id from " + q + ".checkpoints where stream_id = ? and slot_name = ?";
    }

    String recordLegacyBacklog() {
        return "insert into " + q + ".backlog (stream_id, event_id) select e.stream_id, e.id from " + q
                + ".events e where e.stream_id = ? and e.id <= ? on conflict do nothing";
    }

    String clearLegacyBacklog() {
        return "update " + q + ".checkpoints set event_id = null, updated_at = now() where stream_id = ?";
    }

    /**
     * Records events of a stream in commit order (arrays of commit LSNs as text, ordinals, 32-bit transaction ids,
     * event ids); the transaction ids are stored as xid8.
     */
    String recordReplay() {
        return "insert into " + q
                + ".replay (stream_id, commit_lsn, ordinal, event_id, xid) select ?, l::pg_lsn, o, i, "
                + q + ".xid8_of(x) from unnest(?::text[], ?::int[], ?::bigint[], ?::bigint[]) as r(l, o, x, i)"
                + " on conflict do nothing";
    }

    /**
     * The recorded events of a stream after a place in commit order, in that order, with the replay columns after
     * {@link OutboxRows#SELECT_LIST}; the event's columns are null when this statement does not see it, and then the
     * last column says what to do ({@code <schema>.event_fate} in this statement's snapshot).
     */
    String replayAfter() {
        return "select " + OutboxRows.SELECT_LIST
                + ", r.commit_lsn::text, r.ordinal, r.event_id, case when e.id is null"
                + " then " + q + ".event_fate(r.xid, pg_current_snapshot()) end from " + q
                + ".replay r left join " + q + ".events e on e.stream_id = r.stream_id and e.id = r.event_id"
                + " where r.stream_id = ? and (r.commit_lsn, r.ordinal) > (?::pg_lsn, ?)"
                + " order by r.commit_lsn, r.ordinal limit ?";
    }

    /** Forgets the recorded events of a stream up to a place in commit order (every sink confirmed them). */
    String replayDone() {
        return "delete from " + q + ".replay where stream_id = ? and (commit_lsn, ordinal) <= (?::pg_lsn, ?)";
    }

    /**
     * The highest commit LSN recorded for a stream (null when nothing is), and the slot's confirmed flush LSN (null
     * when unknown), as text (parameters: stream id, slot name).
     */
    String replayHighest() {
        return "select (select max(commit_lsn)::text from " + q + ".replay where stream_id = ?),"
                + " (select confirmed_flush_lsn::text from pg_replication_slots where slot_name = ?)";
    }

    /** Records the checkpoint of an outage: now, and the last position (commit LSN) every sink confirmed. */
    String enterFailover() {
        return "insert into " + q + ".checkpoints (stream_id, slot_name, failover_since, confirmed_lsn)"
                + " values (?, ?, now(), ?::pg_lsn) on conflict (stream_id) do update set"
                + " failover_since = excluded.failover_since, confirmed_lsn = excluded.confirmed_lsn, updated_at = now()";
    }

    String leaveFailover() {
        return "update " + q + ".checkpoints set failover_since = null, confirmed_lsn = null, updated_at = now()"
                + " where stream_id = ?";
    }

    String deleteDelivered() {
        return "delete from " + q + ".events where stream_id = ? and id = any(?)";
    }

    /**
     * Sets (or, with null, clears) the NOTIFY wake-up channel of a stream (parameters: stream id, channel); writes
     * nothing when it is already so.
     */
    String registerWakeup() {
        return "insert into " + q + ".streams as s (stream_id, wakeup_channel) values (?, ?) on conflict (stream_id)"
                + " do update set wakeup_channel = excluded.wakeup_channel, updated_at = now()"
                + " where s.wakeup_channel is distinct from excluded.wakeup_channel";
    }

    /** The partitions older than a retention (days) kept because they hold events not delivered yet, and why. */
    String heldPartitions() {
        return "select partition_name, reason from " + q + ".held_partitions(?)";
    }

    /**
     * The steps partition maintenance has to take, in order (parameters: days ahead, retention days): step
     * ({@code create} or {@code drop}), partition name, day.
     */
    String maintenanceSteps() {
        return "select step, partition_name, day from " + q + ".maintenance_steps(?, ?)";
    }

    /** Creates the partition of a day unless it exists (parameter: the day); one transaction per call. */
    String createPartition() {
        return "select " + q + ".create_partition(?)";
    }

    /** Drops an expired partition unless it holds undelivered events (parameters: name, retention days). */
    String dropPartition() {
        return "select " + q + ".drop_partition(?, ?)";
    }

    String insertDeadLetter() {
        return "insert into " + q + ".dead_letters (source, event_id, channel, routing_key, headers, payload,"
                + " content_type, target, reason) values (?, ?, ?, ?, jsonb_object(?::text[], ?::text[]), ?, ?, ?, ?)";
    }

    /**
     * Fails with the fix when the schema is not installed.
     *
     * @throws SchemaException naming the schema and how to install it
     */
    void requireInstalled(Connection c) throws SQLException {
        try (PreparedStatement st = c.prepareStatement("select to_regclass(? || '.events'), to_regclass(? ||"
                + " '.streams'), to_regclass(? || '.dead_letters')")) {
            for (int i = 1; i <= 3; i++) {
                st.setString(i, q);
            }
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                if (rs.getString(1) == null || rs.getString(2) == null || rs.getString(3) == null) {
                    throw new SchemaException("The outbox schema '" + schema + "' is not installed in this database:"
                            + " apply it with io.pgbridge.sql.PgBridgeSchema.migrate(dataSource, \"" + schema
                            + "\") (artifact pgbridge-sql) or your own Flyway/Liquibase, or set "
                            + OutboxSettings.SCHEMA.envName());
                }
            }
        }
    }
}
