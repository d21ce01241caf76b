package io.pgbridge.internal.wal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The event ids of the rows an initial snapshot or an online backfill sends: {@code <prefix><hash>}, where the prefix
 * names the snapshot or backfill ({@code <consistent point>:r:}, {@code <start LSN>:b:}) and the hash is the first 128
 * bits of the SHA-256 of the table and the row's primary key values, in hex (32 characters). So a row sent again after a
 * crash or a retry, which is read again from the last recorded chunk, carries the same id as before, whatever the chunk
 * boundaries and the rows around it are then; and two rows never share one. The key's values are hashed rather than
 * written out so that an id stays short (an AMQP message-id holds 255 bytes) whatever the key. Not thread-safe: one per
 * thread.
 */
final class RowIds {
    private static final HexFormat HEX = HexFormat.of();
    private static final int ID_BYTES = 16;

    private final MessageDigest sha256;

    RowIds() {
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /**
     * The id of the row of {@code table} whose primary key values (as text, in key order) are {@code key}. The parts are
     * separated by a NUL byte, which neither a table name nor a PostgreSQL text value can hold, so the hashed text is
     * unambiguous.
     */
    String id(String prefix, String table, List<String> key) {
        sha256.update(table.getBytes(StandardCharsets.UTF_8));
        for (String value : key) {
            sha256.update((byte) 0);
            sha256.update(value.getBytes(StandardCharsets.UTF_8));
        }
        byte[] digest = sha256.digest();
        return prefix + HEX.formatHex(digest, 0, ID_BYTES);
    }
}
