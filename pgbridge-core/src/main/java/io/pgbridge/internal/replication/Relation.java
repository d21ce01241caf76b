package io.pgbridge.internal.replication;

import java.util.List;

/**
 * A table as pgoutput describes it in a Relation message ({@code R}): sent before the first change of the table in a
 * session and again after its definition changed. See "Logical Replication Message Formats" in the PostgreSQL
 * documentation (protocol-logicalrep-message-formats.html). Immutable.
 *
 * @param oid the table's OID, which later change messages refer to
 * @param schema the schema ({@code pg_catalog} when pgoutput sends an empty namespace)
 * @param table the table name
 * @param replicaIdentity {@code d} default (primary key), {@code n} nothing, {@code f} full, {@code i} index
 * @param columns the columns in table order
 */
public record Relation(int oid, String schema, String table, char replicaIdentity, List<Column> columns) {

    /** One column: its name, type OID, type modifier, and whether it is part of the replica identity. */
    public record Column(String name, int typeOid, int typeModifier, boolean key) {}

    public Relation {
        columns = List.copyOf(columns);
    }

    /** {@code schema.table}, the channel of this table's change events. */
    public String qualifiedName() {
        return schema + '.' + table;
    }
}
