package io.pgbridge.internal.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PostgresUriTest {

    @Test
    void turnsTheSeedsUriIntoJdbcWithCredentialsApart() {
        PostgresUri uri = PostgresUri.parse("postgresql://app:p%40ss@db.example:6432/shop?sslmode=verify-full");

        assertThat(uri.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example:6432/shop?sslmode=verify-full");
        assertThat(uri.user()).isEqualTo("app");
        assertThat(uri.password().reveal()).isEqualTo("p@ss");
        assertThat(uri.toString()).doesNotContain("p@ss").doesNotContain("p%40ss");
    }

    @Test
    void acceptsPostgresSchemeAndMissingParts() {
        assertThat(PostgresUri.parse("postgres://localhost/app").jdbcUrl())
                .isEqualTo("jdbc:postgresql://localhost/app");
        assertThat(PostgresUri.parse("postgresql://u@h/d").password()).isNull();
    }

    @Test
    void passesJdbcUrlsThrough() {
        assertThat(PostgresUri.parse("jdbc:postgresql://h:5432/d?user=x").jdbcUrl())
                .isEqualTo("jdbc:postgresql://h:5432/d?user=x");
    }

    @Test
    void rejectsOtherSchemesWithTheExpectedForm() {
        assertThatThrownBy(() -> PostgresUri.parse("mysql://u:pw@h/d"))
                .hasMessageContaining("postgresql://user:password@host:5432/database")
                .hasMessageNotContaining("pw");
    }
}
