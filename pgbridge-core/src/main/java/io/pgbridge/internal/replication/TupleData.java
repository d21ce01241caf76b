package io.pgbridge.internal.replication;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The column values of one row in a pgoutput change message, in table column order. Each value has a kind:
 * {@link #NULL}, {@link #UNCHANGED_TOAST} (an unchanged TOASTed value the server did not send), {@link #TEXT} (the
 * type's text output, UTF-8) or {@link #BINARY} (the type's binary send format, only with {@code binary 'true'}).
 *
 * <p>A value is a range of an array ({@link #array}, {@link #offset}, {@link #length}): for a decoded message, the
 * message's own array, so that decoding a row copies no value. Valid only during the handler call that received it:
 * the message's array is not the decoder's to keep, and the decoder fills the same two instances (new row, old row)
 * for every message, so that decoding a row allocates nothing, and empties them after the call. Not thread-safe: read
 * it on the thread that decoded it.
 */
public final class TupleData {
    public static final byte NULL = 'n';
    public static final byte UNCHANGED_TOAST = 'u';
    public static final byte TEXT = 't';
    public static final byte BINARY = 'b';

    private byte[] kinds;
    private byte[][] arrays;
    private int[] offsets;
    private int[] lengths;
    private int size;

    /** An empty row for the decoder to {@link #fill}. */
    TupleData() {
        this(new byte[0], new byte[0][], new int[0], new int[0]);
    }

    private TupleData(byte[] kinds, byte[][] arrays, int[] offsets, int[] lengths) {
        this.kinds = kinds;
        this.arrays = arrays;
        this.offsets = offsets;
        this.lengths = lengths;
        this.size = kinds.length;
    }

    /**
     * A row read with SQL rather than decoded from pgoutput: each value is the type's text output as UTF-8 (what
     * pgoutput sends in text mode), {@code null} for SQL NULL. Keeps the arrays.
     */
    public static TupleData text(byte[][] values) {
        byte[] kinds = new byte[values.length];
        int[] lengths = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            kinds[i] = values[i] == null ? NULL : TEXT;
            lengths[i] = values[i] == null ? 0 : values[i].length;
        }
        return new TupleData(kinds, values, new int[values.length], lengths);
    }

    /** Makes this a row of {@code count} columns, each to be {@link #set}; grows the arrays when needed. */
    void fill(int count) {
        if (count > kinds.length) {
            kinds = new byte[count];
            arrays = new byte[count][];
            offsets = new int[count];
            lengths = new int[count];
        }
        size = count;
    }

    /** Sets a column; {@code array} is {@code null} for {@link #NULL} and {@link #UNCHANGED_TOAST}. */
    void set(int column, byte kind, byte[] array, int offset, int length) {
        kinds[column] = kind;
        arrays[column] = array;
        offsets[column] = offset;
        lengths[column] = length;
    }

    /** Empties this row, dropping its references to the arrays it read (the decoder's, after each call). */
    void release() {
        Arrays.fill(arrays, 0, size, null);
        size = 0;
    }

    public int size() {
        return size;
    }

    /** One of {@link #NULL}, {@link #UNCHANGED_TOAST}, {@link #TEXT}, {@link #BINARY}. */
    public byte kind(int column) {
        return kinds[column];
    }

    /** The array holding the value for {@link #TEXT} and {@link #BINARY}, else {@code null}. Do not modify. */
    public byte[] array(int column) {
        return arrays[column];
    }

    /** Where the value starts in {@link #array}. */
    public int offset(int column) {
        return offsets[column];
    }

    /** The value's length in bytes (0 for {@link #NULL} and {@link #UNCHANGED_TOAST}). */
    public int length(int column) {
        return lengths[column];
    }

    /** The value decoded as UTF-8 for {@link #TEXT}, else {@code null}. */
    public String text(int column) {
        return kinds[column] == TEXT
                ? new String(arrays[column], offsets[column], lengths[column], StandardCharsets.UTF_8)
                : null;
    }
}
