package io.pgbridge.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The subscription guard (schema V4) against a corpus of every quoting form PostgreSQL has: what PostgreSQL parses as
 * one expression over new/old is accepted and behaves as written, everything else is refused naming the rule it
 * broke, and nothing in a clause ever runs while it is checked.
 */
class ExpressionGuardIT {
    private final GuardDatabase g = new GuardDatabase();
    private final TestDatabase db = g.db;

    @BeforeEach
    void create() throws Exception {
        g.create();
    }

    @AfterEach
    void drop() throws Exception {
        db.dropAll();
    }

    /** A when_clause on INSERT and the email that makes it true; 'zzz' makes each of them false. */
    private static final String[][] ACCEPTED = {
        {"new.email = E'\\''", "'"},
        {"new.email = E'\\\\'", "\\"},
        {"new.email = E'\\x41\\u0042'", "AB"},
        {"new.email = U&'\\0041'", "A"},
        {"new.email = U&'!0041' UESCAPE '!'", "A"},
        {"new.email = '\\'", "\\"},
        {"new.email = 'it''s; -- not a comment /* nor this'", "it's; -- not a comment /* nor this"},
        {"new.email = 'a'\n'b'", "ab"},
        {"new.email = $$;$$", ";"},
        {"new.email = $tag$ $$ ; -- ' $tag$", " $$ ; -- ' "},
        {"new.email = $a$$b$;$b$$a$", "$b$;$b$"},
        {"new.email = 'x' /* a /* nested ; */ comment; */", "x"},
        {"new.email = 'x' -- a trailing comment; drop table users", "x"},
        {"new.\"email\" = '\"'", "\""},
        {"new.email = E'\\'' || $$;$$ || U&'\\0029'", "';)"},
        {"case when new.email_verified then false else new.email = '(' end", "("},
        {"(new.id, new.email) > (0, 'y') and new.email <> 'zzz'", "zz"},
    };

    @Test
    void everyQuotingFormPostgresParsesAsOneExpressionIsAcceptedAndFiltersAsWritten() throws Exception {
        String before = g.canaries();
        List<String> wrong = new ArrayList<>();
        int n = 0;
        for (String[] c : ACCEPTED) {
            String key = "ok-" + n++;
            g.subscribe(key, "INSERT", c[0], null);
            // The inserting session reads backslashes in strings the old way: the generated function must not.
            try (Connection conn = db.connect();
                    Statement st = conn.createStatement()) {
                st.execute("set standard_conforming_strings = off; set escape_string_warning = off");
                try (PreparedStatement ins =
                        conn.prepareStatement("insert into " + db.app + ".users (email) values (?), ('zzz')")) {
                    ins.setString(1, c[1]);
                    ins.executeUpdate();
                }
            }
            List<String> matched = strings("select payload -> 'new' ->> 'email' from " + db.schema
                    + ".events where payload ->> 'tg_name' = '" + key + "'");
            if (!matched.equals(List.of(c[1]))) {
                wrong.add(c[0] + " matched " + matched);
            }
            db.execute("delete from " + db.schema + ".subscriptions");
        }
        assertThat(wrong).as("clauses that did not filter as written").isEmpty();
        assertThat(g.canaries()).as("canaries").isEqualTo(before);
    }

    /** A clause and the rule its refusal must name. */
    private String[][] rejected() {
        String canary = db.app + ".canary";
        return new String[][] {
            {"true; select nextval('" + canary + "')", "one expression"},
            {"true; insert into " + db.app + ".canary_log values (1)", "one expression"},
            {"$$ ; $$; select nextval('" + canary + "')", "one expression"},
            {"true /* ; */ ; select nextval('" + canary + "')", "one expression"},
            {"true -- a comment\n; select nextval('" + canary + "')", "one expression"},
            {"true /* /* nested, left open */", "one expression"},
            {"new.email = $a$ left open $b$", "one expression"},
            {"new.email = 'left open", "one expression"},
            {"new.\"email = 'x'", "one expression"},
            {"new.email = E'\\'') or (true", "one expression"},
            {"new.email = '\\'') or (true", "one expression"},
            {"true) or (true", "one expression"},
            {"true from pg_class", "one expression"},
            {"true, false", "one expression"},
            {"(true", "one expression"},
            {"", "not empty"},
            {"  -- only a comment", "one expression"},
            {"new.id", "of type boolean"},
            {"new.nope", "only new"},
            {"old.id = 1", "only new"},
            {"pg_class.oid = 1", "only new"},
            {"$1.id = 1", "only new"},
            {"$2.id = 1", "only new"},
            {"true) then perform nextval('" + canary + "'); end if; if (true", "one expression"},
            {"found", "only new"},
            {"new.id in (select 1)", "no sub-select"},
            {"exists (select from pg_class)", "no sub-select"},
            {"nextval('" + canary + "') > 0", "no volatile function"},
            {"pg_notify('x', 'y') is null", "no volatile function"},
            {"set_config('pgbridge.x', 'y', false) = 'y'", "no volatile function"},
            {"count(*) > 0", "no aggregate or window function"},
            {"generate_series(1, 2) > 0", "no set-returning function"},
            {"new.email::" + db.app + ".short_text is not null", "no domain cast"},
        };
    }

    @Test
    void everythingElseIsRefusedNamingTheRuleAndNothingRuns() throws Exception {
        String before = g.canaries();
        for (String[] c : rejected()) {
            assertThatThrownBy(() -> g.subscribe("bad", "INSERT", c[0], null))
                    .as("when_clause %s", c[0])
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("subscription 'bad' when_clause")
                    .hasMessageContaining("breaks the rule \"" + c[1] + "\"");
        }
        assertThat(g.queryLong("select count(*) from " + db.schema + ".subscriptions"))
                .as("subscriptions stored")
                .isZero();
        assertThat(g.canaries()).as("canaries").isEqualTo(before);
    }

    @Test
    void theIssuesReproducerIsRefusedAndItsSmuggledStatementDoesNotRun() throws Exception {
        String clause = "E'\\'' = '') execute function " + db.schema + "._wake_up(); select pg_catalog.nextval("
                + g.canaryOid() + "::regclass); --E'\\''";
        String before = g.canaries();
        assertThatThrownBy(() -> g.subscribe("smuggler", "INSERT", clause, null))
                .as("the reproducer of issue 10")
                .hasMessageContaining("breaks the rule \"one expression\"");
        assertThat(g.canaries()).as("canaries: the sequence did not move").isEqualTo(before);
    }

    @Test
    void aCallerReadingStringsTheOldWayCannotHideAStatementInABackslash() throws Exception {
        String before = g.canaries();
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            st.execute("set standard_conforming_strings = off; set escape_string_warning = off");
            // With standard_conforming_strings off, '\'' is one string; the guard (on) sees a ';' outside strings.
            String clause = "new.email = '\\'; select nextval(''" + db.app + ".canary''); --'";
            assertThatThrownBy(() -> st.execute("insert into " + db.schema + ".subscriptions (key, operation,"
                            + " schema_name, table_name, when_clause) values ('bad', 'INSERT', '" + db.app
                            + "', 'users', E'" + clause.replace("\\", "\\\\").replace("'", "\\'") + "')"))
                    .as("when_clause %s", clause)
                    .hasMessageContaining("breaks the rule \"one expression\"");
        }
        assertThat(g.canaries()).as("canaries").isEqualTo(before);
    }

    @Test
    void payloadExtensionsAreOneExpressionWithoutSubSelects() throws Exception {
        String before = g.canaries();
        String[][] rejected = {
            {"(select 1)", "no sub-select"},
            {"exists (select 1)", "no sub-select"},
            {"array(select oid from pg_class)", "no sub-select"},
            {"new.id + (select 1)", "no sub-select"},
            {"new.id in (select 1)", "no sub-select"},
            {"1), 'y', (select nextval('" + db.app + ".canary')", "one expression"},
            {"1); select nextval('" + db.app + ".canary'); select (1", "one expression"},
            {"nextval('" + db.app + ".canary')", "no volatile function"},
            {"generate_series(1, 2)", "no set-returning function"},
            {"new.nope", "only new and old"},
            {"$1.id + $2.id", "only new and old"},
            {"new.id + $1.id", "only new and old"},
        };
        for (String[] c : rejected) {
            assertThatThrownBy(() -> g.subscribe("bad", "INSERT", null, c[0]))
                    .as("payload extension %s", c[0])
                    .hasMessageContaining("payload extension expression")
                    .hasMessageContaining("breaks the rule \"" + c[1] + "\"");
        }
        g.subscribe("ext", "INSERT", null, "jsonb_build_object('id', new.id, 'dollar', $$;$$) -- trailing");
        db.execute("insert into " + db.app + ".users (email) values ('a')");
        assertThat(strings("select payload ->> 'x' from " + db.schema + ".events"))
                .as("the extension's value")
                .containsExactly("{\"id\": 1, \"dollar\": \";\"}");
        assertThat(g.canaries()).as("canaries").isEqualTo(before);
    }

    @Test
    void whenClausesMayUseOnlyTheRowsTheirOperationHas() throws Exception {
        g.subscribe("upd", "UPDATE", "new.email <> old.email", null);
        g.subscribe("del", "DELETE", "old.email_verified", null);
        assertThatThrownBy(() -> g.subscribe("del2", "DELETE", "new.email_verified", null))
                .hasMessageContaining("breaks the rule \"only old\"");
        db.execute("insert into " + db.app + ".users (email, email_verified) values ('a', true);"
                + " update " + db.app + ".users set email = 'b'; update " + db.app + ".users set email = 'b';"
                + " delete from " + db.app + ".users");
        assertThat(strings("select payload ->> 'tg_name' from " + db.schema + ".events order by id"))
                .as("events of the changed update and the delete")
                .containsExactly("upd", "del");
    }

    private List<String> strings(String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
