package io.pgbridge.internal.wal;

import io.pgbridge.BackfillProgress;
import io.pgbridge.BackfillTask;
import io.pgbridge.ConfigurationException;
import io.pgbridge.ConnectionException;
import io.pgbridge.Event;
import io.pgbridge.SchemaException;
import io.pgbridge.SourceState;
import io.pgbridge.WalOptions;
import io.pgbridge.internal.Closing;
import io.pgbridge.internal.pipeline.Backoff;
import io.pgbridge.internal.replication.FlushTracker;
import io.pgbridge.internal.replication.LsnText;
import io.pgbridge.internal.replication.ReplicationSetup;
import io.pgbridge.internal.replication.SetupStep;
import io.pgbridge.spi.EventSource;
import io.pgbridge.spi.PostgresConnector;
import io.pgbridge.spi.SourceContext;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.postgresql.replication.ReplicationSlotInfo;
import org.postgresql.replication.fluent.logical.ChainedLogicalStreamBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams row changes from a logical replication slot (pgoutput by default, or wal2json) and hands them to the
 * pipeline, at least once.
 *
 * <ul>
 *   <li>Acknowledgement: the flushed LSN reported to the server only ever covers transactions the pipeline's ledger
 *       acknowledged: sealed once their commit was decoded and every change handed over ({@link Emitter}), and every
 *       event at or below them confirmed by every route or taken by a dead-letter destination ({@link FlushTracker}
 *       turns that into the LSN). pgjdbc's automatic flush is off: it would advance the flushed LSN to a keepalive's
 *       position whenever the client had flushed up to the last message's start, which is not a statement about
 *       confirmations. The source flushes keepalive positions itself, and only when nothing is in flight.
 *   <li>Status updates keep flowing while sinks are slow: the reader reads with {@code readPending}, which answers
 *       the server's keepalive requests and sends a status update every {@code wal.status-interval-ms}, and waits for
 *       room in the pipeline in slices, forcing a status update between slices. So {@code wal_sender_timeout} never
 *       drops the connection. A flushed LSN that moved is sent within {@link #ACK_REPORT_INTERVAL} (100 ms), not
 *       only at the next status interval.
 *   <li>The reader blocks rather than spins. Between transactions it reads with {@code readPending}, which waits on
 *       the socket itself when nothing is buffered (pgjdbc's {@code PGStream.hasMessagePending}: a blocking read of up
 *       to 1 ms, which data ends at once), and acknowledgements reach it from the delivery threads through {@link
 *       FlushTracker}, whose hand-over wakes it where it waits for them (the initial snapshot's confirmation, the drain
 *       after a stop). Inside a transaction (after its Begin, up to its Commit) it reads with pgjdbc's blocking {@code
 *       read()}: the server sends a committed transaction's changes one after another without waiting, so the read
 *       ends as soon as the next one arrives, with one system call where {@code readPending} makes about four (asking
 *       for available bytes, a read that finds none, a poll, the read). {@code read()} keeps the connection's lock
 *       while it waits and, since 42.7.11 (42.7.14 too), a read timeout ends its COPY (pgjdbc issue 4328), so it is
 *       not used where the stream may be idle. Once streaming, the connection's read timeout is
 *       {@code wal.read-timeout-ms} (default 60 s, as the server's {@code wal_sender_timeout}): a read inside a
 *       transaction that waits that long for the next change takes the connection for dead (a path that stopped
 *       carrying bytes) and the source reconnects. Only those reads wait that long: between transactions
 *       {@code readPending} waits for a message at most 1 ms at a time, so an idle stream never runs into it.
 *   <li>Restart resumes at the slot's {@code confirmed_flush_lsn}; a reconnect resumes at the last flushed LSN and
 *       skips what was handed over already. Reconnects back off from 250 ms up to
 *       {@code wal.reconnect-max-backoff-ms}.
 *   <li>Memory: events are handed over as they are decoded, a large transaction is never held whole; the pipeline's
 *       bounds stop reading when the sinks fall behind.
 * </ul>
 */
public final class WalSource implements EventSource {
    private static final Logger log = LoggerFactory.getLogger(WalSource.class);
    /** The least time between two status updates the source sends because the flushed LSN moved. */
    static final Duration ACK_REPORT_INTERVAL = Duration.ofMillis(100);
    /**
     * An empty {@code readPending} that returned sooner than this did not wait on the socket (a pgjdbc that changed
     * its wait): the reader then waits {@link #IDLE_WAIT} itself, or until an acknowledgement arrives.
     */
    private static final long MIN_SOCKET_WAIT_NANOS = 500_000;

    private static final Duration IDLE_WAIT = Duration.ofMillis(1);
    private static final Duration MAX_PUBLISH_WAIT = Duration.ofSeconds(1);
    private static final Duration SLOT_BUSY_WAIT = Duration.ofSeconds(30);
    /** Failures in a row, the same way and without progress, after which the source reports itself failed. */
    static final int FAILED_AFTER = 3;
    /** The key of a backfill's progress record: {@code <slot>/backfill/<schema.table>}. */
    private static final String BACKFILL_KEY = "/backfill/";

    private static final long NOT_FAILING = Long.MIN_VALUE;

    /** Creates the decoder of a stream, once per replication connection. */
    @FunctionalInterface
    public interface DecoderFactory {
        ChangeDecoder create(Emitter emitter);
    }

    private final String name;
    private final DecoderFactory decoders;
    private final PostgresConnector postgres;
    private final WalConfig config;
    private final Backoff reconnectBackoff;
    private final SlotMonitor monitor;
    // the online backfills' windows (null when the decoder cannot serve them: wal2json, a source of its own decoder)
    // and the backfills running, by table
    private final BackfillWindows windows;
    private final Map<String, Backfill> backfills = new ConcurrentHashMap<>();
    private volatile Consumer<String> backfillStarted = table -> {};
    // the table of backfill requests this source takes, null when off
    private volatile BackfillRequests requests;

    private volatile boolean reading;
    private volatile boolean closing;
    private final CountDownLatch readingStopped = new CountDownLatch(1);
    private Thread reader;
    private SourceContext context;
    private FlushTracker tracker;
    private Emitter emitter;
    private Connection connection;
    private PGReplicationStream stream;
    private ChangeDecoder decoder;
    private long reported;
    // Reader thread: whether the flushed LSN moved since the last status update the source sent, and when that was
    private boolean statusPending;
    private long statusSentAt = System.nanoTime();
    // Reader thread: failed attempts since the stream was last past the LSN where it failed (NOT_FAILING when it is),
    // and how many of them failed with the same error in a row.
    private int attempts;
    private long failedAt = NOT_FAILING;
    private int sameInARow;
    private String lastError;
    // The initial snapshot still to be read (null when there is none) and, until the reader takes it, the transaction
    // opened in the slot's exported snapshot.
    private InitialSnapshot snapshot;
    private SnapshotTables exported;
    private SnapshotStore snapshotStore;
    private long consistentPoint;
    // where the initial snapshot this source started or resumed stands (null when it takes none), and who is told when
    // it starts
    private volatile ReadProgress snapshotProgress;
    private volatile Runnable snapshotStarted = () -> {};

    WalSource(PostgresConnector postgres, WalConfig config) {
        this("wal", postgres, config, config.isWal2Json() ? null : new BackfillWindows());
    }

    private WalSource(String name, PostgresConnector postgres, WalConfig config, BackfillWindows windows) {
        this(
                name,
                postgres,
                config,
                windows == null
                        ? emitter -> new Wal2JsonEvents(emitter, SlotMonitor.PREFIX)
                        : emitter -> new PgOutputEvents(emitter, SlotMonitor.PREFIX, windows),
                windows);
    }

    private WalSource(
            String name,
            PostgresConnector postgres,
            WalConfig config,
            DecoderFactory decoders,
            BackfillWindows windows) {
        this.name = name;
        this.windows = windows;
        this.decoders = decoders;
        this.postgres = postgres;
        this.config = config;
        this.reconnectBackoff = new Backoff(Duration.ofMillis(250), config.reconnectMaxBackoff);
        this.monitor = new SlotMonitor(postgres, config.slot, config.heartbeatInterval, config.lagWarningBytes);
    }

    /**
     * A source that streams the tables of one pgoutput publication from a persistent slot, with this class's
     * acknowledgement, status-update and reconnect behaviour, and turns the messages into events with its own
     * decoder. The {@code wal.*} timing settings apply; slot, publication and plugin are given here.
     *
     * @param name the source's name, also {@link io.pgbridge.Event#source()} of its events
     * @param tables the published tables, as {@code schema.table}
     * @throws ConfigurationException listing every invalid setting
     */
    public static WalSource forPublication(
            String name,
            PostgresConnector postgres,
            WalOptions options,
            String slot,
            String publication,
            Set<String> tables,
            DecoderFactory decoders) {
        WalOptions own = options.toBuilder()
                .slot(slot)
                .publication(publication)
                .outputPlugin(WalConfig.PGOUTPUT)
                .temporarySlot(false)
                .snapshot(WalOptions.Snapshot.NEVER)
                .build();
        return new WalSource(name, postgres, WalConfig.from(own, tables, ""), decoders, null);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void start(SourceContext context) throws InterruptedException {
        this.context = context;
        long confirmed;
        try (Connection c = postgres.connect()) {
            if (config.snapshot == WalOptions.Snapshot.INITIAL_ONLY) {
                confirmed = 0;
                prepareSnapshot(c, false, Long.MAX_VALUE);
            } else {
                boolean exists = ReplicationSetup.prepare(c, config.spec());
                SetupStep.reached("wal-publication");
                boolean initial = config.snapshot == WalOptions.Snapshot.INITIAL && !config.temporarySlot;
                if (initial) {
                    checkSnapshotTables(c);
                }
                if (!exists && !config.temporarySlot) {
                    if (initial) {
                        createSlotWithSnapshot(c);
                    } else {
                        createSlot(c);
                    }
                    SetupStep.reached("wal-slot");
                }
                ReplicationSetup.slotCreated(c, config.spec());
                confirmed = config.temporarySlot ? 0 : confirmedFlush(c);
                if (initial && exists) {
                    prepareSnapshot(c, true, confirmed);
                }
            }
        } catch (SQLException e) {
            closeSnapshot();
            throw new ConnectionException(
                    "Cannot prepare logical replication on " + postgres.describe() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeSnapshot();
            throw e;
        }
        tracker = new FlushTracker(confirmed);
        reported = confirmed;
        Duration wait =
                config.statusInterval.compareTo(MAX_PUBLISH_WAIT) < 0 ? config.statusInterval : MAX_PUBLISH_WAIT;
        emitter = new Emitter(name, context, tracker, wait, new Emitter.Connection() {
            @Override
            public void keepAlive() throws SQLException {
                reportFlush();
                sendStatus();
            }

            @Override
            public boolean reading() {
                return reading;
            }
        });
        if (snapshot == null && config.snapshot != WalOptions.Snapshot.INITIAL_ONLY) {
            openStreamAtStart();
        }
        reading = true;
        context.state(SourceState.READING, null);
        reader = context.threadFactory().newThread(this::run);
        reader.setName("pgbridge-wal-reader-" + config.slot);
        reader.start();
        if (config.snapshot == WalOptions.Snapshot.INITIAL_ONLY) {
            return;
        }
        monitor.start(context.threadFactory());
        resumeBackfills();
        takeBackfillRequests();
        log.info(
                "Streaming WAL from slot {} ({}{}) at {}, resuming after {}{}",
                config.slot,
                config.plugin,
                config.publication == null ? "" : ", publication " + config.publication,
                postgres.describe(),
                LsnText.of(confirmed),
                snapshot == null ? "" : ", once the initial snapshot is read");
    }

    /**
     * Starts an online backfill of {@code table} ({@link Backfill}), from its start, while streaming goes on.
     *
     * @param table {@code schema.table}, a table a route takes
     * @param filter a SQL condition on the table's columns, or {@code null} for every row
     * @throws ConfigurationException when this source cannot backfill (wal2json), no route takes the table,
     *     or a backfill of it runs already
     * @throws IllegalStateException when the source is not streaming
     * @throws SchemaException when the table cannot be backfilled (missing, no primary key, a replica identity other
     *     than DEFAULT or FULL, a filter that is not valid SQL for it)
     */
    public BackfillTask backfill(String table, String filter) {
        if (windows == null) {
            throw new ConfigurationException("backfill needs wal.output-plugin=pgoutput: its watermarks are "
                    + "logical decoding messages, and the rows are written in pgoutput's event shape");
        }
        if (!reading || config.snapshot == WalOptions.Snapshot.INITIAL_ONLY) {
            throw new IllegalStateException("the WAL source is not streaming: start the bridge first (and a backfill "
                    + "needs a slot: not with wal.snapshot=initial-only)");
        }
        if (!context.isRouted(table)) {
            throw new ConfigurationException("no route takes table " + table + ": backfill sends its rows "
                    + "through the table's route; add a route for it (channel " + table + ")");
        }
        Backfill running = backfills.get(table);
        if (running != null && running.progress().state() == BackfillProgress.State.RUNNING) {
            throw new ConfigurationException(
                    "a backfill of " + table + " runs already (" + running.id() + "): cancel it first, or wait for it");
        }
        return startBackfill(table, filter, null);
    }

    /**
     * Calls {@code listener} with the table of every backfill this source starts or resumes, on the thread that
     * starts it, before the backfill reads its first chunk (the bridge registers the table's meters with it). Set it
     * before {@link #start}.
     */
    public void onBackfill(Consumer<String> listener) {
        backfillStarted = Objects.requireNonNull(listener, "listener");
    }

    /**
     * Calls {@code listener} when this source starts or resumes the initial snapshot ({@code wal.snapshot}), on the
     * thread that starts the source, before the snapshot reads its first chunk (the bridge registers the snapshot's
     * meters with it). Not called when the snapshot was taken already. Set it before {@link #start}.
     */
    public void onSnapshot(Runnable listener) {
        snapshotStarted = Objects.requireNonNull(listener, "listener");
    }

    /**
     * The progress of the initial snapshot this source started or resumed, running or ended: {@code id} the slot (the
     * key of its record), {@code table} the table it reads (the last one once all are read), rows, chunks and total
     * rows over every routed table; {@code null} when this source took no snapshot since it started. Any thread.
     */
    public BackfillProgress snapshotProgress() {
        ReadProgress p = snapshotProgress;
        return p == null ? null : p.progress();
    }

    /** The progress of the latest backfill of {@code table} this source started or resumed, or {@code null}. */
    public BackfillProgress backfillProgress(String table) {
        Backfill b = backfills.get(table);
        return b == null ? null : b.progress();
    }

    /** The backfills this source started or resumed since it started, running or ended. */
    public List<BackfillProgress> backfills() {
        List<BackfillProgress> all = new ArrayList<>();
        for (Backfill b : backfills.values()) {
            all.add(b.progress());
        }
        all.sort(Comparator.comparing(BackfillProgress::table));
        return all;
    }

    /**
     * @param resumed the record of the backfill to resume, {@code null} for a new one (from the start, with a new start
     *     LSN)
     */
    private Backfill startBackfill(String table, String filter, SnapshotStore.Record resumed) {
        InitialSnapshot.Progress from = resumed == null ? InitialSnapshot.Progress.START : resumed.progress();
        String key = config.slot + BACKFILL_KEY + table;
        SnapshotTables tables = null;
        try {
            tables = SnapshotTables.live(postgres, table, filter);
            char identity = tables.replicaIdentity(0);
            if (identity != 'd' && identity != 'f') {
                throw new SchemaException(
                        "table " + table + " has REPLICA IDENTITY " + (identity == 'n' ? "NOTHING" : "USING INDEX")
                                + ": a backfill must see the primary key of every deleted row in the WAL; "
                                + "ALTER TABLE " + table + " REPLICA IDENTITY DEFAULT (or FULL)");
            }
            SnapshotStore store = new SnapshotStore(postgres, key, List.of(table), filter);
            long start;
            try (Connection c = postgres.connect()) {
                store.load(c); // creates the table when missing
                Long recorded = resumed == null ? null : resumed.consistentPoint();
                start = recorded != null ? recorded : currentWalLsn(c);
                store.started(c, start, from);
            }
            Backfill b = new Backfill(
                    key,
                    table,
                    filter,
                    LsnText.of(start) + ":b:",
                    postgres,
                    windows,
                    tracker::acknowledged,
                    store,
                    tables,
                    from,
                    tables.count(),
                    InitialSnapshot.CHUNK_ROWS);
            backfills.put(table, b);
            backfillStarted.accept(table);
            b.start(context.threadFactory(), config.slot);
            return b;
        } catch (SQLException e) {
            Closing.quietly(tables, "the snapshot's reading transaction");
            throw new SchemaException(
                    "Cannot backfill " + table + (filter == null ? "" : " where " + filter) + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            Closing.quietly(tables, "the snapshot's reading transaction");
            throw e;
        }
    }

    /** Starts taking the requests of {@code wal.backfill-requests} ({@link BackfillRequests}), unless they are off. */
    private void takeBackfillRequests() {
        if (windows == null || config.temporarySlot || config.backfillRequests == null) {
            return;
        }
        requests =
                new BackfillRequests(config.backfillRequests, config.slot, postgres, new BackfillRequests.Backfills() {
                    @Override
                    public BackfillTask start(String table, String filter) {
                        return backfill(table, filter);
                    }

                    @Override
                    public BackfillTask current(String table) {
                        return backfills.get(table);
                    }

                    @Override
                    public boolean routed(String table) {
                        return context.isRouted(table);
                    }

                    @Override
                    public String recordedState(Connection c, String table) throws SQLException {
                        return SnapshotStore.state(c, config.slot + BACKFILL_KEY + table);
                    }
                });
        requests.start(context.threadFactory());
    }

    /** The server's WAL position now: a new backfill's start, the prefix of its rows' event ids. */
    private static long currentWalLsn(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            return LogSequenceNumber.valueOf(rs.getString(1)).asLong();
        }
    }

    /** Resumes the backfills that a previous bridge on this slot left unfinished, from their last confirmed chunk. */
    private void resumeBackfills() {
        if (windows == null || config.temporarySlot) {
            return;
        }
        String prefix = config.slot + BACKFILL_KEY;
        try (Connection c = postgres.connect()) {
            for (Map.Entry<String, String> record :
                    SnapshotStore.unfinished(c, prefix).entrySet()) {
                String table = record.getKey().substring(prefix.length());
                if (!context.isRouted(table)) {
                    log.warn(
                            "Unfinished backfill {} is not resumed: no route takes {} any more",
                            record.getKey(),
                            table);
                    continue;
                }
                SnapshotStore.Record r =
                        new SnapshotStore(postgres, record.getKey(), List.of(table), record.getValue()).load(c);
                try {
                    startBackfill(table, record.getValue(), r);
                } catch (RuntimeException e) {
                    log.error("Unfinished backfill {} cannot resume: {}", record.getKey(), e.getMessage());
                }
            }
        } catch (SQLException | RuntimeException e) {
            log.error("Unfinished backfills of slot {} cannot be resumed: {}", config.slot, e.getMessage());
        }
    }

    /** Refuses tables the snapshot cannot read in key order, all at once. */
    private void checkSnapshotTables(Connection c) throws SQLException {
        List<String> problems = SnapshotTables.problems(c, snapshotTables());
        if (!problems.isEmpty()) {
            throw new SchemaException(
                    "wal.snapshot=" + config.snapshot.text() + " cannot read:\n  - " + String.join("\n  - ", problems));
        }
    }

    /** Names the snapshot's prefetch thread {@code pgbridge-wal-snapshot-<slot>}. */
    private ThreadFactory snapshotThreads() {
        ThreadFactory threads = context.threadFactory();
        return r -> {
            Thread t = threads.newThread(r);
            t.setName("pgbridge-wal-snapshot-" + config.slot);
            return t;
        };
    }

    private List<String> snapshotTables() {
        return new ArrayList<>(new TreeSet<>(config.tables));
    }

    /**
     * Creates the slot on a replication connection with an exported snapshot ({@code CREATE_REPLICATION_SLOT ...
     * LOGICAL pgoutput}, whose default is {@code EXPORT_SNAPSHOT}) and imports that snapshot into the reading
     * transaction before the replication connection is used again or closed (the snapshot lives only until then).
     * The record says "pending" before the slot exists, so that a crash in between never leaves a slot whose
     * snapshot nobody remembers.
     */
    private void createSlotWithSnapshot(Connection c) throws SQLException {
        List<String> tables = snapshotTables();
        snapshotStore = new SnapshotStore(postgres, config.slot, tables);
        snapshotStore.load(c);
        snapshotStore.pending(c);
        try (Connection replication = postgres.connectForReplication()) {
            ReplicationSlotInfo slot = replication
                    .unwrap(PGConnection.class)
                    .getReplicationAPI()
                    .createReplicationSlot()
                    .logical()
                    .withSlotName(config.slot)
                    .withOutputPlugin(config.plugin)
                    .make();
            consistentPoint = slot.getConsistentPoint().asLong();
            exported =
                    SnapshotTables.open(postgres, tables, slot.getSnapshotName(), consistentPoint, snapshotThreads());
            log.info(
                    "Created logical replication slot {} with output plugin {}, consistent point {}, exported "
                            + "snapshot {}",
                    config.slot,
                    config.plugin,
                    LsnText.of(slot.getConsistentPoint().asLong()),
                    slot.getSnapshotName());
        }
        snapshotStore.started(c, consistentPoint, InitialSnapshot.Progress.START);
        snapshot = newSnapshot(tables, InitialSnapshot.Progress.START);
    }

    /**
     * An existing slot (or, for initial-only, none): resumes a snapshot its record says is unfinished, from the last
     * confirmed chunk, reading the rest as it is now (the exported snapshot ended with the bridge that created it).
     */
    private void prepareSnapshot(Connection c, boolean slotExists, long confirmed) throws SQLException {
        checkSnapshotTables(c);
        List<String> tables = snapshotTables();
        snapshotStore = new SnapshotStore(postgres, config.slot, tables);
        SnapshotStore.Record record = snapshotStore.load(c);
        if (record != null && record.done()) {
            log.info(
                    "Initial snapshot for slot {} was taken already ({} rows)",
                    config.slot,
                    record.progress().rows());
            closeSnapshot();
            return;
        }
        if (record == null && slotExists) {
            log.info(
                    "Slot {} exists without an initial snapshot record: no snapshot is taken (it is taken only when "
                            + "pgbridge creates the slot); drop the slot to start over with one",
                    config.slot);
            closeSnapshot();
            return;
        }
        InitialSnapshot.Progress from = record == null ? InitialSnapshot.Progress.START : record.progress();
        consistentPoint = slotExists ? confirmed : Long.MAX_VALUE;
        if (slotExists && record.consistentPoint() != null && record.consistentPoint() != confirmed) {
            throw new SchemaException("slot " + config.slot + " stands at "
                    + LsnText.of(confirmed) + ", not at the consistent point "
                    + LsnText.of(record.consistentPoint()) + " of its unfinished initial "
                    + "snapshot (table " + SnapshotStore.TABLE + "): drop the slot to take the snapshot again");
        }
        if (record == null) {
            log.info("Initial snapshot (initial-only) of {} starts; no slot is created", tables);
        } else if (from.chunk() == 0) {
            log.warn(
                    "Initial snapshot for slot {} did not finish before the last stop and no chunk of it was "
                            + "confirmed: it starts again from the beginning{}",
                    config.slot,
                    slotExists ? ", reading the tables as they are now (the exported snapshot ended)" : "");
        } else {
            log.warn(
                    "Initial snapshot for slot {} resumes after chunk {} ({} rows confirmed, table {}), reading the "
                            + "rest as it is now: the exported snapshot ended with the bridge that created the slot, "
                            + "so rows changed since the consistent point may come as 'r' events and again as changes",
                    config.slot,
                    from.chunk(),
                    from.rows(),
                    from.table() < tables.size() ? tables.get(from.table()) : "-");
        }
        snapshotStore.started(c, consistentPoint, from);
        snapshot = newSnapshot(tables, from);
    }

    private InitialSnapshot newSnapshot(List<String> tables, InitialSnapshot.Progress from) {
        snapshotProgress = new ReadProgress(
                "Initial snapshot for slot " + config.slot, config.slot, tables, null, from, 0, System::nanoTime);
        snapshotStarted.run();
        String lsn = consistentPoint == Long.MAX_VALUE ? "-" : LsnText.of(consistentPoint);
        return new InitialSnapshot(
                tables,
                lsn + ":r:",
                consistentPoint,
                InitialSnapshot.CHUNK_ROWS,
                from,
                snapshotStore,
                new InitialSnapshot.Output() {
                    @Override
                    public boolean hand(Event.Builder event, long position) throws InterruptedException {
                        Event e = event.source(name).position(position).build();
                        Duration wait = config.statusInterval.compareTo(MAX_PUBLISH_WAIT) < 0
                                ? config.statusInterval
                                : MAX_PUBLISH_WAIT;
                        while (!context.publishDeferred(e, wait)) {
                            if (!reading) {
                                return false;
                            }
                        }
                        return true;
                    }

                    @Override
                    public void seal(long position) {
                        context.flush();
                        context.seal(position);
                        tracker.sealed(position);
                    }

                    @Override
                    public long acknowledged() {
                        return tracker.acknowledged();
                    }
                });
    }

    /**
     * Reads the initial snapshot to its end and waits until the sinks confirmed all of it, so that streaming starts at
     * the consistent point behind it. A failed read goes on from the last chunk handed over, in a new transaction (the
     * exported snapshot ended with the connection). Returns {@code false} when the source stopped first. The rows to
     * read are counted first, in the reading transaction ({@link SnapshotTables#count}); progress goes to {@link
     * #snapshotProgress} and, every {@link ReadProgress#LOG_EVERY}, to the log.
     */
    private boolean readSnapshot() throws InterruptedException {
        SnapshotTables tables = exported;
        exported = null;
        ReadProgress progress = snapshotProgress;
        boolean counted = false;
        int failures = 0;
        try {
            while (reading && !snapshot.complete()) {
                try {
                    if (snapshot.read()) {
                        long known = tracker.acknowledged();
                        snapshot.recordConfirmed();
                        if (!snapshot.complete()) {
                            // until the ledger acknowledges more (stop() ends the wait early)
                            tracker.awaitAcknowledged(known, MAX_PUBLISH_WAIT.toNanos());
                        }
                    } else {
                        if (tables == null) {
                            tables = SnapshotTables.open(
                                    postgres, snapshotTables(), null, consistentPoint, snapshotThreads());
                        }
                        if (!counted) {
                            progress.total(tables.count());
                            counted = true;
                        }
                        if (!snapshot.step(tables)) {
                            return false;
                        }
                        progress.handed(snapshot.handed());
                        progress.state(BackfillProgress.State.RUNNING, null);
                        failures = 0;
                    }
                } catch (SQLException e) {
                    failures++;
                    long delay = reconnectBackoff.delayMillis(failures);
                    progress.state(BackfillProgress.State.RUNNING, e.getMessage());
                    log.warn(
                            "Initial snapshot for slot {} failed after chunk {} ({}); going on from there in a new "
                                    + "transaction in {} ms, reading the rest as it is now",
                            config.slot,
                            snapshot.handed().chunk(),
                            e.getMessage(),
                            delay);
                    Closing.quietly(tables, "the snapshot's reading transaction");
                    tables = null;
                    context.state(SourceState.RECONNECTING, "initial snapshot: " + e.getMessage());
                    Thread.sleep(delay); // backoff between attempts
                    context.state(SourceState.READING, null);
                }
                String line = progress.lineIfDue(snapshot.unconfirmed());
                if (line != null) {
                    log.info("{}", line);
                }
            }
        } finally {
            Closing.quietly(tables, "the snapshot's reading transaction");
            if (!snapshot.complete()) {
                closeSnapshot(); // stopping: the record keeps the last confirmed chunk
                if (!reading) {
                    progress.state(BackfillProgress.State.STOPPED, null);
                }
            }
        }
        if (!snapshot.complete()) {
            return false;
        }
        progress.state(BackfillProgress.State.DONE, null);
        log.info("{}", progress.doneLine());
        snapshot = null;
        closeSnapshot();
        return true;
    }

    private void closeSnapshot() {
        Closing.quietly(exported, "the snapshot's reading transaction");
        exported = null;
        Closing.quietly(snapshotStore, "the snapshot record's connection");
    }

    /**
     * Opens the stream, waiting up to {@link #SLOT_BUSY_WAIT} while the slot is still held by a walsender of a
     * previous bridge that is going away (SQLSTATE 55006, "replication slot ... is active").
     */
    private void openStreamAtStart() throws InterruptedException {
        long deadline = System.nanoTime() + SLOT_BUSY_WAIT.toNanos();
        for (int attempt = 1; ; attempt++) {
            try {
                openStream();
                return;
            } catch (SQLException e) {
                closeConnection();
                if (!"55006".equals(e.getSQLState()) || System.nanoTime() > deadline) {
                    throw new ConnectionException(
                            "Cannot start streaming from slot " + config.slot + " on " + postgres.describe() + ": "
                                    + e.getMessage(),
                            e);
                }
                log.info("Slot {} is still in use ({}); retrying", config.slot, e.getMessage());
                Thread.sleep(reconnectBackoff.delayMillis(attempt)); // backoff between attempts
            }
        }
    }

    private void createSlot(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_create_logical_replication_slot(?, ?)")) {
            ps.setString(1, config.slot);
            ps.setString(2, config.plugin);
            ps.execute();
            log.info("Created logical replication slot {} with output plugin {}", config.slot, config.plugin);
        } catch (SQLException e) {
            if (!"42710".equals(e.getSQLState())) { // created meanwhile by another instance: fine
                throw e;
            }
        }
    }

    private long confirmedFlush(Connection c) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, config.slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getString(1) != null
                        ? LogSequenceNumber.valueOf(rs.getString(1)).asLong()
                        : 0;
            }
        }
    }

    private void openStream() throws SQLException {
        connection = postgres.connectForReplication();
        PGConnection pg = connection.unwrap(PGConnection.class);
        if (config.temporarySlot) {
            pg.getReplicationAPI()
                    .createReplicationSlot()
                    .logical()
                    .withSlotName(config.slot)
                    .withOutputPlugin(config.plugin)
                    .withTemporaryOption()
                    .make();
        }
        ChainedLogicalStreamBuilder builder = pg.getReplicationAPI()
                .replicationStream()
                .logical()
                .withSlotName(config.slot)
                .withStartPosition(LogSequenceNumber.valueOf(tracker.flushed()))
                .withStatusInterval((int) config.statusInterval.toMillis(), TimeUnit.MILLISECONDS)
                .withAutomaticFlush(false);
        for (Map.Entry<String, String> option : config.pluginOptions.entrySet()) {
            builder.withSlotOption(option.getKey(), option.getValue());
        }
        stream = builder.start();
        // after the start: creating a slot on this connection may wait longer for running transactions to end
        connection.setNetworkTimeout(Runnable::run, (int) config.readTimeout.toMillis());
        emitter.reset();
        decoder = decoders.create(emitter);
    }

    /**
     * Reads until stopped, reconnecting after any failure. The backoff grows across sessions until the stream gets
     * past the LSN where it last failed, so a stream that fails at the same place every time (a message it cannot
     * decode) is not reopened in a tight loop; after {@link #FAILED_AFTER} failures in a row with the same error the
     * source reports {@link SourceState#FAILED} with the reason, and keeps trying at the longest backoff.
     */
    private void run() {
        try {
            try {
                if (snapshot != null && !readSnapshot()) {
                    return;
                }
            } catch (RuntimeException e) {
                snapshotProgress.state(BackfillProgress.State.FAILED, e.getMessage());
                context.failed(new SchemaException(
                        "Initial snapshot for slot " + config.slot + " cannot go on: " + e.getMessage(), e));
                return;
            }
            if (config.snapshot == WalOptions.Snapshot.INITIAL_ONLY) {
                log.info("wal.snapshot=initial-only: the snapshot is read; nothing is streamed");
                synchronized (this) {
                    while (reading) {
                        wait(1000); // until stopped; close() notifies
                    }
                }
                return;
            }
            while (reading) {
                try {
                    if (stream == null) {
                        openStream();
                        if (attempts == 0) {
                            log.info("Streaming from slot {} at {}", config.slot, LsnText.of(tracker.flushed()));
                            continue;
                        }
                        log.info(
                                "Replication stream from slot {} re-established after {} attempt(s)",
                                config.slot,
                                attempts);
                    }
                    read();
                } catch (SQLException | RuntimeException e) {
                    if (!reading) {
                        break;
                    }
                    if (permanent(e)) {
                        context.failed(new SchemaException(
                                "Replication from slot " + config.slot + " cannot continue: " + e.getMessage(), e));
                        break;
                    }
                    long delay = failed(e);
                    closeConnection();
                    emitter.flush(); // what was read before the loss goes on while this waits
                    Thread.sleep(delay); // backoff between attempts, not a wait for a condition
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            emitter.flush(); // what is held must reach the sinks for the pipeline to drain
            readingStopped.countDown();
        }
        drain();
    }

    /** Records a failure and returns the backoff before the next attempt. */
    private long failed(Exception e) {
        String error = String.valueOf(e);
        sameInARow = error.equals(lastError) ? sameInARow + 1 : 1;
        lastError = error;
        attempts++;
        if (stream != null) {
            failedAt = Math.max(failedAt, stream.getLastReceiveLSN().asLong());
        } else if (failedAt == NOT_FAILING) {
            failedAt = tracker.flushed();
        }
        long delay = reconnectBackoff.delayMillis(attempts);
        String at = LsnText.of(failedAt);
        if (sameInARow >= FAILED_AFTER) {
            context.state(SourceState.FAILED, "fails at " + at + " again and again: " + e.getMessage());
            log.error(
                    "Replication from slot {} failed {} times in a row at {} the same way ({}); retrying in {} ms",
                    config.slot,
                    sameInARow,
                    at,
                    e.getMessage(),
                    delay,
                    log.isDebugEnabled() ? e : null);
        } else {
            context.state(SourceState.RECONNECTING, "lost at " + at + ": " + e.getMessage());
            log.warn(
                    "Replication stream from slot {} lost at {} ({}); reconnecting in {} ms (attempt {})",
                    config.slot,
                    at,
                    e.getMessage(),
                    delay,
                    attempts);
        }
        return delay;
    }

    /** The stream got past {@code lsn}: past the place of the last failure, it counts as recovered. */
    private void progressed(long lsn) {
        if (failedAt != NOT_FAILING && lsn > failedAt) {
            failedAt = NOT_FAILING;
            attempts = 0;
            sameInARow = 0;
            lastError = null;
            context.state(SourceState.READING, null);
        }
    }

    /**
     * Reads until stopped. Inside a transaction a read blocks until the next change; between transactions an empty
     * {@code readPending} has waited on the socket already (see the class comment), so the loop blocks in the kernel
     * while the stream is idle and takes each message as soon as it arrives; between waits it lets held events go,
     * gives the decoder its turn, and reports the acknowledgements that arrived.
     */
    private void read() throws SQLException, InterruptedException {
        while (reading) {
            long started = System.nanoTime();
            ByteBuffer message = emitter.inTransaction() ? readInTransaction(started) : stream.readPending();
            if (message == null) {
                progressed(stream.getLastReceiveLSN().asLong());
                emitter.flush();
                if (!emitter.inTransaction()) {
                    decoder.betweenTransactions();
                }
                long known = tracker.acknowledged();
                reportFlush();
                sendStatusIfDue();
                if (System.nanoTime() - started < MIN_SOCKET_WAIT_NANOS) {
                    tracker.awaitAcknowledged(known, IDLE_WAIT.toNanos());
                }
                continue;
            }
            long lsn = stream.getLastReceiveLSN().asLong();
            decoder.decode(message, lsn);
            progressed(lsn);
            if (!emitter.inTransaction()) {
                emitter.flush();
                decoder.betweenTransactions();
                reportFlush();
                sendStatusIfDue();
            }
        }
    }

    /**
     * pgjdbc's blocking read, which returns {@code null} only once the COPY ended: inside a transaction that is the end
     * of this connection, never a message to wait for again. A read that waits out the connection's read timeout ends
     * pgjdbc's COPY (issue 4328) and then fails on the status update that is due ("Tried to write to an inactive copy
     * operation") or returns that {@code null}. Neither names the timeout, so a read that waited that long fails here
     * with a message that does, the same each time: a transaction that runs into the timeout again and again makes the
     * source {@link SourceState#FAILED}.
     */
    private ByteBuffer readInTransaction(long started) throws SQLException {
        SQLException failure;
        try {
            ByteBuffer message = stream.read();
            if (message != null) {
                return message;
            }
            failure = new SQLException("the replication stream ended inside a transaction", "08006");
        } catch (SQLException e) {
            failure = e;
        }
        if (System.nanoTime() - started >= config.readTimeout.toNanos()) {
            throw new SQLException(
                    "no change arrived inside a transaction within wal.read-timeout-ms ("
                            + config.readTimeout.toMillis() + " ms): " + failure.getMessage(),
                    "08006", // connection failure
                    failure);
        }
        throw failure;
    }

    /**
     * After intake stopped: keeps reporting acknowledgements while the pipeline drains, until close(). Each new
     * acknowledgement wakes it (sent at most every {@link #ACK_REPORT_INTERVAL}); without one, a status update goes out
     * every status interval (at most every second) all the same.
     */
    private void drain() {
        long keepAlive = Math.min(config.statusInterval.toNanos(), TimeUnit.SECONDS.toNanos(1));
        while (!closing && stream != null) {
            try {
                long known = tracker.acknowledged();
                reportFlush();
                long since = System.nanoTime() - statusSentAt;
                if (since >= keepAlive || (statusPending && since >= ACK_REPORT_INTERVAL.toNanos())) {
                    sendStatus();
                    since = 0;
                }
                if (statusPending) {
                    // the acknowledgement is sent once the interval since the last status update has passed
                    tracker.awaitAcknowledged(Long.MAX_VALUE, ACK_REPORT_INTERVAL.toNanos() - since);
                } else {
                    tracker.awaitAcknowledged(known, keepAlive - since); // close() ends the wait early
                }
            } catch (SQLException | RuntimeException e) {
                log.debug("Status update while draining failed", e);
                break;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (stream != null) {
            try {
                reportFlush();
                sendStatus();
                log.info("Slot {} confirmed up to {}", config.slot, LsnText.of(reported));
            } catch (SQLException | RuntimeException e) {
                log.warn(
                        "Final acknowledgement to slot {} failed ({}); the last changes are read again on the next start",
                        config.slot,
                        e.getMessage());
            }
        }
        closeConnection();
    }

    /**
     * Sets the flushed LSN the next status update carries to what {@link FlushTracker} allows: the one place where
     * the source tells pgjdbc a flushed position (pgjdbc's automatic flush is off, so it never moves it itself).
     */
    private void reportFlush() {
        long flushed = tracker.advance(stream.getLastReceiveLSN().asLong(), emitter.inTransaction());
        if (flushed > reported) {
            reported = flushed;
            statusPending = true;
            LogSequenceNumber lsn = LogSequenceNumber.valueOf(flushed);
            stream.setFlushedLSN(lsn);
            stream.setAppliedLSN(lsn);
        }
    }

    /** Sends a status update now when the flushed LSN moved and the last one went out an interval ago or more. */
    private void sendStatusIfDue() throws SQLException {
        if (statusPending && System.nanoTime() - statusSentAt >= ACK_REPORT_INTERVAL.toNanos()) {
            sendStatus();
        }
    }

    /** Sends a status update with the flushed LSN last reported, now (the server answers with a keepalive). */
    private void sendStatus() throws SQLException {
        stream.forceUpdateStatus();
        statusSentAt = System.nanoTime();
        statusPending = false;
    }

    /** Errors that no reconnect cures: the slot is gone or invalidated, the publication or privilege is missing. */
    private static boolean permanent(Exception e) {
        if (e instanceof SQLException s) {
            String state = s.getSQLState();
            return "42704".equals(state)
                    || "42501".equals(state)
                    || "28000".equals(state)
                    || ("55000".equals(state) && String.valueOf(s.getMessage()).contains("can no longer get changes"));
        }
        return false;
    }

    private void closeConnection() {
        PGReplicationStream s = stream;
        stream = null;
        Connection c = connection;
        connection = null;
        Closing.quietly(s, "the replication stream");
        Closing.quietly(c, "the replication connection");
    }

    @Override
    public void acknowledge(long position) {
        FlushTracker t = tracker;
        if (t != null) {
            t.acknowledge(position);
        }
    }

    @Override
    public OptionalLong lagBytes() {
        long lag = monitor.lagBytes();
        return lag < 0 ? OptionalLong.empty() : OptionalLong.of(lag);
    }

    @Override
    public void stop() {
        BackfillRequests r = requests;
        if (r != null) {
            try {
                r.stop(); // takes no more requests
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Backfill b : backfills.values()) {
            try {
                b.stop(); // before the reader stops: a backfill waits for the reader to hand its chunk over
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (r != null) {
            requests = null;
            r.close(); // the requests' last progress: stopped, or how they ended
        }
        reading = false;
        if (context != null) {
            context.state(SourceState.STOPPED, null);
        }
        Thread t = reader;
        if (t == null || t == Thread.currentThread()) {
            return;
        }
        LockSupport.unpark(t); // ends a wait for an acknowledgement

        try {
            if (!readingStopped.await(config.statusInterval.toMillis() + 5_000, TimeUnit.MILLISECONDS)) {
                t.interrupt();
                readingStopped.await(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
        monitor.stop();
        closing = true;
        synchronized (this) {
            notifyAll();
        }
        Thread t = reader;
        if (t != null && t != Thread.currentThread()) {
            LockSupport.unpark(t); // ends the drain's wait for an acknowledgement
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else {
            closeConnection();
        }
    }

    @Override
    public List<String> prerequisiteProblems(Connection connection) throws SQLException {
        return ReplicationSetup.problems(connection, config.spec());
    }
}
