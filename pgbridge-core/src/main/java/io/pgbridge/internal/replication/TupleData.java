package io.pgbridge.internal.replication;

/**
 * The column values of one row in a pgoutput change message, in table column order. Each value has a kind:
 * {@link #NULL}, {@link #UNCHANGED_TOAST} (an unchanged TOASTed value the server did not send), {@link #TEXT} (the
 * type's text output, UTF-8) or {@link #BINARY} (the type's binary send format, only with {@code binary 'true'}).
 * Holds the message's bytes; not thread-safe, read it on the thread that decoded it.
 */
public final class TupleData {
    public static final byte NULL = 'n';
    public static final byte UNCHANGED_TOAST = 'u';
    public static final byte TEXT = 't';
    public static final byte BINARY = 'b';

    private final byte[] kinds;
    private final byte[][] values;

    TupleData(byte[] kinds, byte[][] values) {
        this.kinds = kinds;
        this.values = values;
    }

    /**
     * A row read with SQL rather than decoded from pgoutput: each value is the type's text output as UTF-8 (what
     * pgoutput sends in text mode), {@code null} for SQL NULL. Keeps the array.
     */
    public static TupleData text(byte[][] values) {
        byte[] kinds = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            kinds[i] = values[i] == null ? NULL : TEXT;
        }
        return new TupleData(kinds, values);
    }

    public int size() {
        return kinds.length;
    }

    /** One of {@link #NULL}, {@link #UNCHANGED_TOAST}, {@link #TEXT}, {@link #BINARY}. */
    public byte kind(int column) {
        return kinds[column];
    }

    /** The value's bytes for {@link #TEXT} and {@link #BINARY}, else {@code null}. Do not modify. */
    public byte[] value(int column) {
        return values[column];
    }
}
