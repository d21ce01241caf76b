package io.pgbridge.chaos;

import io.pgbridge.chaos.Deliveries.Delivery;
import io.pgbridge.chaos.Nemesis.Injected;
import io.pgbridge.chaos.Producer.Commit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads the ledger and the consumed messages and says what happened to every committed row.
 *
 * <p>Order, per route, after deduplication (the first delivery of each id counts): ids must arrive in commit order.
 * One exception is allowed, because the docs promise it (docs/sinks.md, RabbitMQ: "retried with backoff, in order,
 * from the first unconfirmed event; events already in the broker may then arrive twice"): an id whose first delivery
 * comes after later ids is <em>retried</em>, not reordered, when every such later id is delivered again after it — a
 * consumer that keeps the last delivery then sees commit order. Any other inversion is a violation.
 */
final class Checker {
    /** The findings of one run. */
    record Report(
            long committedRows,
            long transactions,
            long inDoubtCommitted,
            long deliveries,
            long lost,
            List<Long> lostSample,
            long phantoms,
            long duplicates,
            long duplicatesAtFault,
            long consumerRedeliveries,
            long eventIdChanged,
            long orderViolations,
            long retriedOutOfOrder,
            long worstLatencyMillis,
            int faults,
            long longestGap,
            long longestGapMillis,
            long committedAfterFaults,
            long lostAfterFaults) {

        String summary() {
            return String.format(
                    "committed %,d rows in %,d transactions (%d in doubt, committed), delivered %,d messages; lost %,d%s;"
                            + " phantoms %d; duplicates %,d (%,d in flight at a fault, %,d redelivered by the broker"
                            + " to the consumer); event id changed %d; order violations %d (retried in order: %d);"
                            + " longest commit-to-delivery %,d ms; faults %d; longest run of lost rows %,d (committed"
                            + " over %,d ms), lost after the last fault %,d of %,d",
                    committedRows,
                    transactions,
                    inDoubtCommitted,
                    deliveries,
                    lost,
                    lost == 0 ? "" : " e.g. " + lostSample,
                    phantoms,
                    duplicates,
                    duplicatesAtFault,
                    consumerRedeliveries,
                    eventIdChanged,
                    orderViolations,
                    retriedOutOfOrder,
                    worstLatencyMillis,
                    faults,
                    longestGap,
                    longestGapMillis,
                    lostAfterFaults,
                    committedAfterFaults);
        }
    }

    private Checker() {}

    /**
     * @param calmFromMillis rows committed from then on were written after the faults (and a grace period); a row lost
     *     among them is counted apart ({@link Report#lostAfterFaults()})
     */
    static Report check(
            List<Commit> commits,
            int inDoubtCommitted,
            Deliveries deliveries,
            List<Injected> faults,
            long calmFromMillis) {
        long maxId = 0;
        long rows = 0;
        for (Commit c : commits) {
            maxId = Math.max(maxId, c.last());
            rows += c.rows();
        }
        int n = Math.toIntExact(maxId + 1);
        byte[] route = new byte[n];
        Arrays.fill(route, (byte) -1);
        long[] committedAt = new long[n];
        for (Commit c : commits) {
            for (long id = c.first(); id <= c.last(); id++) {
                route[(int) id] = (byte) c.route();
                committedAt[(int) id] = c.committedAtMillis();
            }
        }
        int[] count = new int[n];
        long[] firstAt = new long[n];
        long[] lastAt = new long[n];
        String[] eventId = new String[n];
        long phantoms = 0;
        long duplicates = 0;
        long redeliveries = 0;
        long eventIdChanged = 0;
        long violations = 0;
        long retried = 0;
        long total = 0;
        for (int r = 0; r < deliveries.routes(); r++) {
            List<Delivery> list = deliveries.of(r);
            total += list.size();
            int[] firstPos = new int[n];
            int[] lastPos = new int[n];
            Arrays.fill(firstPos, -1);
            for (int p = 0; p < list.size(); p++) {
                Delivery d = list.get(p);
                if (d.id() <= 0 || d.id() >= n || route[(int) d.id()] != r) {
                    phantoms++; // never committed, or committed to another route
                    continue;
                }
                int id = (int) d.id();
                if (d.redelivered()) {
                    redeliveries++;
                }
                if (count[id]++ == 0) {
                    firstAt[id] = d.atMillis();
                    eventId[id] = d.eventId();
                    firstPos[id] = p;
                } else {
                    duplicates++;
                    if (eventId[id] != null && !eventId[id].equals(d.eventId())) {
                        eventIdChanged++;
                    }
                }
                lastAt[id] = d.atMillis();
                lastPos[id] = p;
            }
            int maxFirst = 0;
            for (int p = 0; p < list.size(); p++) {
                long id = list.get(p).id();
                if (id <= 0 || id >= n || route[(int) id] != r || firstPos[(int) id] != p) {
                    continue;
                }
                if (id < maxFirst) {
                    if (retriedInOrder((int) id, maxFirst, p, r, route, firstPos, lastPos)) {
                        retried++;
                    } else {
                        violations++;
                    }
                } else {
                    maxFirst = (int) id;
                }
            }
        }
        long lost = 0;
        List<Long> lostSample = new ArrayList<>();
        long worst = 0;
        long atFault = 0;
        long lostAfterFaults = 0;
        long committedAfterFaults = 0;
        long gap = 0;
        long gapStartedAt = 0;
        long longestGap = 0;
        long longestGapMillis = 0;
        for (int id = 1; id < n; id++) {
            if (route[id] < 0) {
                continue;
            }
            if (committedAt[id] >= calmFromMillis) {
                committedAfterFaults++;
            }
            if (count[id] == 0) {
                lost++;
                if (lostSample.size() < 20) {
                    lostSample.add((long) id);
                }
                if (committedAt[id] >= calmFromMillis) {
                    lostAfterFaults++;
                }
                if (gap++ == 0) {
                    gapStartedAt = committedAt[id];
                }
                if (gap > longestGap) {
                    longestGap = gap;
                    longestGapMillis = committedAt[id] - gapStartedAt;
                }
                continue;
            }
            gap = 0;
            worst = Math.max(worst, firstAt[id] - committedAt[id]);
            if (count[id] > 1 && inFlightAtFault(committedAt[id], lastAt[id], faults)) {
                atFault += count[id] - 1;
            }
        }
        return new Report(
                rows,
                commits.size(),
                inDoubtCommitted,
                total,
                lost,
                lostSample,
                phantoms,
                duplicates,
                atFault,
                redeliveries,
                eventIdChanged,
                violations,
                retried,
                worst,
                faults.size(),
                longestGap,
                longestGapMillis,
                committedAfterFaults,
                lostAfterFaults);
    }

    /** Every later id of the route first delivered before position {@code p} is delivered again after it. */
    private static boolean retriedInOrder(
            int id, int maxFirst, int p, int r, byte[] route, int[] firstPos, int[] lastPos) {
        for (int z = id + 1; z <= maxFirst; z++) {
            if (route[z] == r && firstPos[z] >= 0 && firstPos[z] < p && lastPos[z] < p) {
                return false;
            }
        }
        return true;
    }

    /** A fault overlapped the time from the row's commit to its last delivery. */
    private static boolean inFlightAtFault(long committed, long lastDelivered, List<Injected> faults) {
        for (Injected f : faults) {
            if (f.startMillis() <= lastDelivered && f.endMillis() >= committed) {
                return true;
            }
        }
        return false;
    }
}
