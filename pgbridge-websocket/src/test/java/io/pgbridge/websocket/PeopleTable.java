package io.pgbridge.websocket;

import io.pgbridge.testkit.TestServices;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * Seed 004's {@code people} table and {@code data_change} trigger, under unique names: every insert or update
 * NOTIFYs the row as JSON (with {@code dml_action}) on a channel named like the table.
 */
final class PeopleTable implements AutoCloseable {
    final String name =
            "people_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);

    PeopleTable() throws SQLException {
        sql("CREATE TABLE " + name + " (pk serial primary key, ts timestamptz DEFAULT now(), name text, age integer,"
                + " height real)");
        sql("CREATE FUNCTION " + name + "_change() RETURNS trigger AS $$ DECLARE js jsonb; BEGIN"
                + " SELECT to_jsonb(NEW.*) INTO js; js := jsonb_set(js, '{dml_action}', to_jsonb(TG_OP));"
                + " PERFORM (SELECT pg_notify('" + name + "', js::text)); RETURN NEW; END; $$ LANGUAGE plpgsql");
        sql("CREATE TRIGGER data_change_trigger BEFORE INSERT OR UPDATE ON " + name + " FOR EACH ROW EXECUTE FUNCTION "
                + name + "_change()");
    }

    /** Runs SQL in its own auto-commit connection. */
    void sql(String sql) throws SQLException {
        try (Connection c = TestServices.postgresConnection();
                Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    @Override
    public void close() throws SQLException {
        sql("DROP TABLE IF EXISTS " + name);
        sql("DROP FUNCTION IF EXISTS " + name + "_change()");
    }
}
