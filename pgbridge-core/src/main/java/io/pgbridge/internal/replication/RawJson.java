package io.pgbridge.internal.replication;

import com.fasterxml.jackson.core.SerializableString;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A JSON value already encoded as UTF-8 (a json or jsonb column's text output, an integer's or numeric's digits),
 * written by a byte-based generator as it is, without decoding it to a String and encoding it again:
 * {@code utf8[offset, offset + length)}, not copied. Only the unquoted forms are meaningful.
 */
final class RawJson implements SerializableString {
    private final byte[] utf8;
    private final int offset;
    private final int length;
    private String value;

    RawJson(byte[] utf8, int offset, int length) {
        this.utf8 = utf8;
        this.offset = offset;
        this.length = length;
    }

    @Override
    public String getValue() {
        if (value == null) {
            value = new String(utf8, offset, length, StandardCharsets.UTF_8);
        }
        return value;
    }

    @Override
    public int charLength() {
        return getValue().length();
    }

    @Override
    public char[] asQuotedChars() {
        throw new UnsupportedOperationException("raw JSON is never quoted");
    }

    @Override
    public byte[] asUnquotedUTF8() {
        return Arrays.copyOfRange(utf8, offset, offset + length);
    }

    @Override
    public byte[] asQuotedUTF8() {
        throw new UnsupportedOperationException("raw JSON is never quoted");
    }

    @Override
    public int appendQuotedUTF8(byte[] buffer, int offset) {
        throw new UnsupportedOperationException("raw JSON is never quoted");
    }

    @Override
    public int appendQuoted(char[] buffer, int offset) {
        throw new UnsupportedOperationException("raw JSON is never quoted");
    }

    @Override
    public int appendUnquotedUTF8(byte[] buffer, int at) {
        if (at + length > buffer.length) {
            return -1; // the generator then writes asUnquotedUTF8() directly
        }
        System.arraycopy(utf8, offset, buffer, at, length);
        return length;
    }

    @Override
    public int appendUnquoted(char[] buffer, int at) {
        String s = getValue();
        if (at + s.length() > buffer.length) {
            return -1;
        }
        s.getChars(0, s.length(), buffer, at);
        return s.length();
    }

    @Override
    public int writeQuotedUTF8(OutputStream out) {
        throw new UnsupportedOperationException("raw JSON is never quoted");
    }

    @Override
    public int writeUnquotedUTF8(OutputStream out) throws IOException {
        out.write(utf8, offset, length);
        return length;
    }

    @Override
    public int putQuotedUTF8(ByteBuffer buffer) {
        throw new UnsupportedOperationException("raw JSON is never quoted");
    }

    @Override
    public int putUnquotedUTF8(ByteBuffer buffer) {
        if (buffer.remaining() < length) {
            return -1;
        }
        buffer.put(utf8, offset, length);
        return length;
    }
}
