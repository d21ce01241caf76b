package io.pgbridge.server;

import static io.pgbridge.server.StartupErrorsIT.env;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.testkit.TestServices;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code slots list} shows a slot with what it holds back; {@code slots drop} removes it, and names a wrong one. */
class SlotsIT {
    private static final String SLOT = "slots_it_abandoned";
    private static final Map<String, String> ENV = env("PGBRIDGE_POSTGRESQL_URI", TestServices.postgresUrl());

    @AfterEach
    void dropLeftovers() throws Exception {
        try (Connection c = TestServices.postgresConnection();
                Statement st = c.createStatement()) {
            st.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + SLOT
                    + "'");
        }
    }

    @Test
    void listShowsAnAbandonedSlotAndDropRemovesIt() throws Exception {
        try (Connection c = TestServices.postgresConnection();
                Statement st = c.createStatement()) {
            st.execute("SELECT pg_create_logical_replication_slot('" + SLOT + "', 'pgoutput')");
        }

        Runner.Result list = Runner.run(ENV, "slots", "list");

        assertThat(list.exit()).as("%s", list).isZero();
        assertThat(list.stdoutLines().get(0)).startsWith("SLOT").contains("PLUGIN", "ACTIVE", "HOLDS");
        assertThat(list.stdoutLines())
                .anySatisfy(line -> assertThat(line).startsWith(SLOT + " ").contains("pgoutput", "logical", " no "));

        Runner.Result drop = Runner.run(ENV, "slots", "drop", SLOT);

        assertThat(drop.exit()).as("%s", drop).isZero();
        assertThat(drop.stderr()).contains("Dropped replication slot " + SLOT);
        try (Connection c = TestServices.postgresConnection();
                Statement st = c.createStatement();
                ResultSet rs =
                        st.executeQuery("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + SLOT + "'")) {
            rs.next();
            assertThat(rs.getInt(1)).as("slots left named " + SLOT).isZero();
        }
    }

    @Test
    void droppingASlotThatDoesNotExistIsAConfigurationError() {
        Runner.Result drop = Runner.run(ENV, "slots", "drop", "slots_it_no_such_slot");

        assertThat(drop.exit()).isEqualTo(2);
        assertThat(drop.firstStderrLine())
                .endsWith("replication slot 'slots_it_no_such_slot' does not exist; pgbridge slots list shows them");
    }
}
