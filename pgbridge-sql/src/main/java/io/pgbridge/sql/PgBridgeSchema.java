package io.pgbridge.sql;

import io.pgbridge.ConfigurationException;
import io.pgbridge.PgBridgeConfig;
import io.pgbridge.SchemaException;
import io.pgbridge.internal.config.PostgresUri;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Installs and upgrades the {@code pgbridge} schema: the outbox events table, {@code send}/{@code send_message},
 * subscriptions and their generated triggers, partition maintenance, checkpoints and dead letters.
 *
 * <pre>{@code
 * PgBridgeSchema.migrate(dataSource);               // schema "pgbridge"
 * PgBridgeSchema.migrate(dataSource, "events_out"); // another schema name
 * }</pre>
 *
 * <p>The scripts are versioned Flyway SQL resources under {@value #LOCATION} ({@code V1__outbox_schema.sql}, ...), with
 * the placeholder {@code ${schema}} for the schema name. They are applied by Flyway with its own history table,
 * {@value #HISTORY_TABLE}, inside that schema, so they never touch the application's own migrations. Flyway holds a
 * PostgreSQL advisory lock while it migrates, so several instances starting at once are safe: one applies the
 * scripts, the others wait and then find nothing to do. Teams with their own Flyway or Liquibase can apply the same
 * resources instead (see the README).
 *
 * <p>The role that migrates needs CREATE on the database (for the schema) and becomes the owner of its objects.
 * Thread-safe; holds no state.
 */
public final class PgBridgeSchema {
    /** The default schema name. */
    public static final String DEFAULT_SCHEMA = "pgbridge";
    /** Classpath folder of the versioned SQL scripts. */
    public static final String LOCATION = "io/pgbridge/sql/migration";
    /** Flyway's history table, kept inside the pgbridge schema. */
    public static final String HISTORY_TABLE = "pgbridge_schema_history";
    /** The placeholder the scripts use for the schema name. */
    public static final String SCHEMA_PLACEHOLDER = "schema";

    private static final Pattern SCHEMA_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private PgBridgeSchema() {}

    /**
     * Applies every pending script to schema {@value #DEFAULT_SCHEMA}.
     *
     * @return the number of scripts applied (0 when the schema is up to date)
     * @throws io.pgbridge.SchemaException when a script fails; the cause is Flyway's exception
     */
    public static int migrate(DataSource dataSource) {
        return migrate(dataSource, DEFAULT_SCHEMA);
    }

    /**
     * Applies every pending script to the named schema, creating it when missing.
     *
     * @param schema lower-case letters, digits and {@code _}, starting with a letter or {@code _}, at most 63 bytes
     *     (it is written into SQL unquoted)
     * @return the number of scripts applied (0 when the schema is up to date)
     * @throws IllegalArgumentException when the schema name breaks that rule
     * @throws io.pgbridge.SchemaException when a script fails; the cause is Flyway's exception
     */
    public static int migrate(DataSource dataSource, String schema) {
        Objects.requireNonNull(dataSource, "dataSource");
        checkSchemaName(schema);
        try {
            MigrateResult result = flyway(dataSource, schema).migrate();
            return result.migrationsExecuted;
        } catch (FlywayException e) {
            throw new SchemaException("Migrating the pgbridge schema '" + schema + "' failed: " + e.getMessage(), e);
        }
    }

    /**
     * Applies every pending script to the database and schema of a bridge's settings: {@code postgresql.uri} (with
     * {@code postgresql.user}/{@code postgresql.password} when set) and {@code outbox.schema} (default
     * {@value #DEFAULT_SCHEMA}). What {@code pgbridge run} does before it starts an outbox source.
     *
     * @return the number of scripts applied (0 when the schema is up to date)
     * @throws ConfigurationException when {@code postgresql.uri} is missing or malformed
     * @throws io.pgbridge.SchemaException when a script fails
     */
    public static int migrate(PgBridgeConfig config) {
        return migrate(dataSource(config), schema(config));
    }

    /**
     * A data source for the database of a bridge's settings: {@code postgresql.uri}, with {@code postgresql.user} and
     * {@code postgresql.password} when set. Opens a new connection per {@code getConnection()}; nothing to close.
     *
     * @throws ConfigurationException when {@code postgresql.uri} is missing or malformed
     */
    public static DataSource dataSource(PgBridgeConfig config) {
        String uri = config.get("postgresql.uri");
        if (uri == null) {
            throw new ConfigurationException("PGBRIDGE_POSTGRESQL_URI is missing: the schema needs a database");
        }
        PostgresUri location;
        try {
            location = PostgresUri.parse(uri);
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException("PGBRIDGE_POSTGRESQL_URI " + e.getMessage());
        }
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setURL(location.jdbcUrl());
        String user = config.get("postgresql.user") != null ? config.get("postgresql.user") : location.user();
        if (user != null) {
            dataSource.setUser(user);
        }
        if (config.get("postgresql.password") != null) {
            dataSource.setPassword(config.get("postgresql.password"));
        } else if (location.password() != null) {
            dataSource.setPassword(location.password().reveal());
        }
        return dataSource;
    }

    /** The schema name of a bridge's settings: {@code outbox.schema}, default {@value #DEFAULT_SCHEMA}. */
    public static String schema(PgBridgeConfig config) {
        String schema = config.get("outbox.schema");
        return schema != null ? schema : DEFAULT_SCHEMA;
    }

    /**
     * The scripts as a DBA would apply them by hand, in version order, with {@code ${schema}} replaced by the schema
     * name: file name to SQL text. Applying them this way leaves Flyway's history table empty, so a bridge that later
     * migrates would apply them again: apply by hand only where pgbridge never migrates.
     *
     * @throws IllegalArgumentException when the schema name is not a plain lower-case identifier
     * @throws SchemaException when the scripts cannot be read from the class path
     */
    public static Map<String, String> scripts(String schema) {
        checkSchemaName(schema);
        Map<String, String> byName = new TreeMap<>(Comparator.comparingInt(PgBridgeSchema::version));
        ClassLoader loader = PgBridgeSchema.class.getClassLoader();
        try {
            for (String name : scriptNames(loader)) {
                try (InputStream in = loader.getResourceAsStream(LOCATION + "/" + name)) {
                    String sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    byName.put(name, sql.replace("${" + SCHEMA_PLACEHOLDER + "}", schema));
                }
            }
        } catch (IOException | URISyntaxException e) {
            throw new SchemaException("Cannot read the pgbridge scripts from " + LOCATION + ": " + e.getMessage(), e);
        }
        return byName;
    }

    private static List<String> scriptNames(ClassLoader loader) throws IOException, URISyntaxException {
        URL folder = loader.getResource(LOCATION);
        if (folder == null) {
            throw new IOException("not on the class path");
        }
        List<String> names = new ArrayList<>();
        if (folder.getProtocol().equals("jar")) {
            String jar = folder.getPath()
                    .substring("file:".length(), folder.getPath().indexOf('!'));
            try (JarFile file = new JarFile(URLDecoder.decode(jar, StandardCharsets.UTF_8))) {
                file.stream()
                        .map(JarEntry::getName)
                        .filter(n -> n.startsWith(LOCATION + "/") && n.endsWith(".sql"))
                        .forEach(n -> names.add(n.substring(LOCATION.length() + 1)));
            }
        } else {
            try (Stream<Path> files = Files.list(Path.of(folder.toURI()))) {
                files.map(f -> f.getFileName().toString())
                        .filter(n -> n.endsWith(".sql"))
                        .forEach(names::add);
            }
        }
        return names;
    }

    /** The version of a script name, {@code V12__name.sql}: 12. */
    private static int version(String scriptName) {
        return Integer.parseInt(scriptName.substring(1, scriptName.indexOf("__")));
    }

    /**
     * A Flyway configured for the pgbridge scripts, for callers that want other Flyway commands ({@code info},
     * {@code validate}).
     *
     * @throws IllegalArgumentException when the schema name is not a plain lower-case identifier
     */
    public static Flyway flyway(DataSource dataSource, String schema) {
        checkSchemaName(schema);
        return Flyway.configure(PgBridgeSchema.class.getClassLoader())
                .dataSource(dataSource)
                .schemas(schema)
                .defaultSchema(schema)
                .createSchemas(true)
                .table(HISTORY_TABLE)
                .locations("classpath:" + LOCATION)
                .placeholders(Map.of(SCHEMA_PLACEHOLDER, schema))
                .failOnMissingLocations(true)
                .load();
    }

    private static void checkSchemaName(String schema) {
        if (schema == null || !SCHEMA_NAME.matcher(schema).matches()) {
            throw new IllegalArgumentException("schema name '" + schema + "' must start with a lower-case letter or"
                    + " '_' and hold only lower-case letters, digits and '_' (at most 63)");
        }
    }
}
