package io.pgbridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/**
 * micrometer-core is an optional dependency: a bridge built, started and closed where it is not on the class path
 * works, with no {@code NoClassDefFoundError} from the hot path or the builder.
 */
class WithoutMicrometerTest {

    @Test
    void aBridgeRunsWithoutMicrometerOnTheClassPath() throws Exception {
        try (URLClassLoader loader = new WithoutMicrometer(classPath())) {
            assertThatThrownBy(() -> loader.loadClass("io.micrometer.core.instrument.MeterRegistry"))
                    .as("the loader hides Micrometer")
                    .isInstanceOf(ClassNotFoundException.class);
            @SuppressWarnings("unchecked")
            Callable<List<String>> scenario = (Callable<List<String>>) loader.loadClass(Scenario.class.getName())
                    .getDeclaredConstructor()
                    .newInstance();
            assertThat(scenario.call())
                    .as("delivered")
                    .hasSize(500)
                    .startsWith("0", "1")
                    .endsWith("499");
        }
    }

    private static URL[] classPath() throws Exception {
        String path = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<URL> urls = new ArrayList<>();
        for (String entry : path.split(File.pathSeparator)) {
            if (!entry.isBlank()) {
                urls.add(Path.of(entry).toUri().toURL());
            }
        }
        return urls.toArray(new URL[0]);
    }

    /** Loads everything itself (not from the test's loader), and nothing of {@code io.micrometer}. */
    private static final class WithoutMicrometer extends URLClassLoader {
        WithoutMicrometer(URL[] urls) {
            super(urls, ClassLoader.getPlatformClassLoader());
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            if (name.startsWith("io.micrometer.")) {
                throw new ClassNotFoundException(name + " (hidden by the test)");
            }
            return super.findClass(name);
        }
    }

    /** Runs inside the loader without Micrometer. */
    public static final class Scenario implements Callable<List<String>> {
        @Override
        public List<String> call() throws Exception {
            InMemorySink sink = new InMemorySink();
            ScriptedSource source = new ScriptedSource();
            try (PgBridge bridge = PgBridge.builder()
                    .postgres("postgresql://localhost/unused")
                    .routes("a->queue:a")
                    .source(source)
                    .sink(sink)
                    .build()) {
                bridge.start();
                sink.failNext(2);
                for (int i = 0; i < 500; i++) {
                    source.publish("a", Integer.toString(i));
                }
                sink.await(500, Duration.ofSeconds(10));
                bridge.stats();
            }
            return sink.payloads();
        }
    }
}
