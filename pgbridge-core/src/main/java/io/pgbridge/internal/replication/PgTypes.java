package io.pgbridge.internal.replication;

/**
 * Built-in PostgreSQL type OIDs (src/include/catalog/pg_type.dat) that change events render as something other than
 * a JSON string, and the element type of the built-in arrays of them.
 */
final class PgTypes {
    static final int BOOL = 16;
    static final int BYTEA = 17;
    static final int INT8 = 20;
    static final int INT2 = 21;
    static final int INT4 = 23;
    static final int OID = 26;
    static final int JSON = 114;
    static final int FLOAT4 = 700;
    static final int FLOAT8 = 701;
    static final int TIMESTAMP = 1114;
    static final int TIMESTAMPTZ = 1184;
    static final int NUMERIC = 1700;
    static final int JSONB = 3802;
    static final int TEXT = 25;

    private PgTypes() {}

    /** The element type of a built-in array type, or 0 when {@code oid} is not one. */
    static int elementOf(int oid) {
        return switch (oid) {
            case 1000 -> BOOL;
            case 1001 -> BYTEA;
            case 1005 -> INT2;
            case 1007 -> INT4;
            case 1016 -> INT8;
            case 1028 -> OID;
            case 199 -> JSON;
            case 1021 -> FLOAT4;
            case 1022 -> FLOAT8;
            case 1115 -> TIMESTAMP;
            case 1185 -> TIMESTAMPTZ;
            case 1231 -> NUMERIC;
            case 3807 -> JSONB;
            // text-like arrays: elements stay strings
            case 1009, 1014, 1015, 2951, 1182, 1183, 1270, 1187, 1040, 1041, 651 -> TEXT;
            default -> 0;
        };
    }
}
