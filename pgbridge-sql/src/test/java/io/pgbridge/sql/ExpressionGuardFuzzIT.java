package io.pgbridge.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * The guard's invariant: a clause it accepts is one expression over new/old that changes nothing, neither when it is
 * checked nor when its trigger fires. Valid clauses are mutated with what could end or hide a statement (quotes,
 * semicolons, comments, dollar tags, parentheses, backslashes, smuggled statements that touch the canaries) and then
 * stored as a when_clause and as a payload extension. Whatever is accepted must leave the canaries as they were, must
 * be read by PostgreSQL's CREATE VIEW as a single column (parsed without the guard), and its trigger must write at
 * most one event per subscription for a row.
 */
class ExpressionGuardFuzzIT {
    private static final GuardDatabase g = new GuardDatabase();
    private static final TestDatabase db = g.db;

    /** Valid clauses with a place for a string literal (written in any of PostgreSQL's quoting forms). */
    private static final List<String> VALID = List.of(
            "new.email = %s",
            "new.email like %s || '%%'",
            "lower(new.email) <> %s and not new.email_verified",
            "new.email in (%s, 'b')",
            "coalesce(new.email, %s) <> ''",
            "new.email_verified or new.email = %s",
            "length(%s) between new.id and 10");

    @BeforeContainer
    static void create() throws Exception {
        g.create();
    }

    @AfterContainer
    static void drop() throws Exception {
        db.dropAll();
    }

    @Provide
    Arbitrary<Candidate> clauses() {
        String canary = db.app + ".canary";
        Arbitrary<String> text =
                Arbitraries.strings().withChars(";'\\\"-/*$()\nE&Ua t").ofMaxLength(12);
        Arbitrary<String> literal =
                Combinators.combine(Arbitraries.integers().between(0, 4), text).as(ExpressionGuardFuzzIT::quoted);
        Arbitrary<String> valid =
                Combinators.combine(Arbitraries.of(VALID), literal).as(String::formatted);
        Arbitrary<String> piece = Arbitraries.of(
                "'",
                "''",
                "E'",
                "\\'",
                "\\",
                "U&'",
                "\"",
                "$$",
                "$t$",
                "$",
                ";",
                "--",
                "\n",
                "/*",
                "*/",
                "(",
                ")",
                ",",
                " or true",
                " /* ; ' $$ */ ",
                " -- ; '\n",
                "); select nextval('" + canary + "'); select (",
                "; insert into " + db.app + ".canary_log values (1); ",
                "' || (select nextval('" + canary + "')) || '",
                "$$; select nextval('" + canary + "'); $$",
                "*/ ; select nextval('" + canary + "'); /*",
                "\n; select nextval('" + canary + "') --",
                "E'\\''); select nextval('" + canary + "'); --E'\\''");
        Arbitrary<Insertion> insertion = Combinators.combine(
                        Arbitraries.integers().between(0, 1000), piece)
                .as(Insertion::new);
        return Combinators.combine(valid, insertion.list().ofMaxSize(3)).as((clause, insertions) -> {
            String s = clause;
            for (Insertion i : insertions) {
                s = i.into(s);
            }
            return new Candidate(s, !insertions.isEmpty());
        });
    }

    /** A string literal holding {@code text} in one of PostgreSQL's quoting forms. */
    private static String quoted(int form, String text) {
        return switch (form) {
            case 0 -> "'" + text.replace("'", "''") + "'";
            case 1 -> "E'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'";
            case 2 -> dollarQuoted("$t$", text);
            case 3 -> dollarQuoted("$$", text);
            default ->
                "U&'" + text.chars().mapToObj(c -> String.format("\\%04x", c)).reduce("", String::concat) + "'";
        };
    }

    /** {@code text} between two dollar tags, or a plain literal when the first tag would end early. */
    private static String dollarQuoted(String tag, String text) {
        return (text + tag).indexOf(tag) == text.length() ? tag + text + tag : "'" + text.replace("'", "''") + "'";
    }

    /** A clause, and whether pieces were inserted into a valid one. */
    private record Candidate(String clause, boolean mutated) {}

    /** Inserts a piece into a clause at a position (modulo its length + 1). */
    private record Insertion(int at, String piece) {
        String into(String clause) {
            int i = at % (clause.length() + 1);
            return clause.substring(0, i) + piece + clause.substring(i);
        }
    }

    @Property(tries = 300)
    void anAcceptedClauseIsOneExpressionAndChangesNothing(@ForAll("clauses") Candidate candidate) throws Exception {
        String clause = candidate.clause();
        String before = g.canaries();
        db.execute("delete from " + db.schema + ".subscriptions; delete from " + db.schema + ".events");
        boolean asWhen = accepted(() -> g.subscribe("when", "INSERT", clause, null));
        boolean asExtension = accepted(() -> g.subscribe("extension", "INSERT", null, clause));
        if (!candidate.mutated()) {
            assertThat(asWhen)
                    .as("a valid clause in any quoting form is accepted: %s", clause)
                    .isTrue();
        }
        Statistics.label("when_clause").collect(asWhen ? "accepted" : "refused");
        Statistics.label("payload extension").collect(asExtension ? "accepted" : "refused");
        assertThat(g.canaries()).as("canaries after checking %s", clause).isEqualTo(before);
        if (!asWhen && !asExtension) {
            return;
        }
        assertThat(viewColumns(clause))
                .as("columns PostgreSQL reads from %s", clause)
                .isEqualTo(1);
        db.execute("insert into " + db.app + ".users (email) values ('a')");
        assertThat(g.queryLong("select count(*) from " + db.schema + ".events where payload ->> 'tg_name' = 'when'"))
                .as("events of the when_clause subscription for one row")
                .isLessThanOrEqualTo(asWhen ? 1 : 0);
        assertThat(g.queryLong(
                        "select count(*) from " + db.schema + ".events where payload ->> 'tg_name' = 'extension'"))
                .as("events of the extension subscription for one row")
                .isEqualTo(asExtension ? 1 : 0);
        assertThat(g.canaries()).as("canaries after a row fired %s", clause).isEqualTo(before);
    }

    /** How many columns CREATE VIEW finds in {@code select (<clause>\n)} over the rows new and old. */
    private static long viewColumns(String clause) throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("create view " + db.app + ".probe as select (" + clause + "\n) from " + db.app + ".users new, "
                    + db.app + ".users old");
            try (ResultSet rs = st.executeQuery("select count(*) from pg_attribute where attrelid = '" + db.app
                    + ".probe'::regclass and attnum > 0")) {
                rs.next();
                return rs.getLong(1);
            } finally {
                c.rollback();
            }
        }
    }

    private static boolean accepted(SqlAction action) {
        try {
            action.run();
            return true;
        } catch (SQLException e) {
            assertThat(e.getMessage()).as("refusal").contains("breaks the rule \"");
            return false;
        }
    }

    @FunctionalInterface
    private interface SqlAction {
        void run() throws SQLException;
    }
}
