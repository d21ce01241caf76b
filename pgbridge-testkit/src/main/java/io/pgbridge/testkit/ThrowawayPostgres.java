package io.pgbridge.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A PostgreSQL cluster of a test's own, for prerequisites the shared server must keep (such as {@code wal_level}):
 * {@code initdb} into a temporary folder, started on a free port of 127.0.0.1 with trust authentication, stopped and
 * deleted by {@link #close()}. Takes a few seconds. Needs the server binaries: {@code PGBRIDGE_TEST_POSTGRES_BIN}, else
 * the newest {@code /usr/lib/postgresql/<major>/bin} (Debian's layout); when the tests run as root, the cluster runs as
 * the {@code postgres} user, as PostgreSQL refuses root.
 */
public final class ThrowawayPostgres implements AutoCloseable {
    private final Path dir;
    private final String bin;
    private final int port;

    private ThrowawayPostgres(Path dir, String bin, int port) {
        this.dir = dir;
        this.bin = bin;
        this.port = port;
    }

    /**
     * Creates and starts a cluster.
     *
     * @param settings lines appended to its {@code postgresql.conf}, such as {@code wal_level = replica}
     * @throws IllegalStateException when the binaries are missing or the cluster does not start
     */
    public static ThrowawayPostgres start(List<String> settings) {
        try {
            Path dir = Files.createTempDirectory("pgbridge-pg-");
            ThrowawayPostgres pg = new ThrowawayPostgres(dir, bin(), freePort());
            Path data = dir.resolve("data");
            pg.asOwner("chown postgres: " + dir, true);
            pg.asOwner(pg.bin + "/initdb -D " + data + " -U postgres --auth=trust -E UTF8 >/dev/null", false);
            StringBuilder conf = new StringBuilder("\nport = " + pg.port + "\nlisten_addresses = '127.0.0.1'\n"
                    + "unix_socket_directories = '" + dir + "'\nfsync = off\n");
            settings.forEach(s -> conf.append(s).append('\n'));
            Files.writeString(data.resolve("postgresql.conf"), conf, java.nio.file.StandardOpenOption.APPEND);
            pg.asOwner(pg.bin + "/pg_ctl -D " + data + " -l " + dir.resolve("log") + " -w start >/dev/null", false);
            return pg;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code postgresql://postgres@127.0.0.1:<port>/postgres}. */
    public String url() {
        return "postgresql://postgres@127.0.0.1:" + port + "/postgres";
    }

    /** Stops the cluster (fast shutdown) and deletes its folder. */
    @Override
    public void close() {
        asOwner(bin + "/pg_ctl -D " + dir.resolve("data") + " -m fast -w stop >/dev/null", false);
        Shell.run("rm -rf " + dir);
    }

    private void asOwner(String command, boolean rootOnly) {
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            Shell.run(rootOnly ? command : "su postgres -c '" + command + "'");
        } else if (!rootOnly) {
            Shell.run(command);
        }
    }

    private static String bin() throws IOException {
        String configured = System.getenv("PGBRIDGE_TEST_POSTGRES_BIN");
        if (configured != null) {
            return configured;
        }
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> majors = Files.list(debian)) {
                return majors.map(p -> p.resolve("bin"))
                        .filter(p -> Files.isExecutable(p.resolve("initdb")))
                        .max(Comparator.comparingInt(p -> Integer.parseInt(
                                p.getParent().getFileName().toString().replaceAll("\\D", "0"))))
                        .map(Path::toString)
                        .orElseThrow(() -> new IllegalStateException("no initdb under " + debian
                                + "; set PGBRIDGE_TEST_POSTGRES_BIN to PostgreSQL's bin folder"));
            }
        }
        throw new IllegalStateException("PostgreSQL's server binaries were not found: set PGBRIDGE_TEST_POSTGRES_BIN to"
                + " the folder holding initdb and pg_ctl");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public String toString() {
        return "ThrowawayPostgres{" + url() + '}';
    }
}
