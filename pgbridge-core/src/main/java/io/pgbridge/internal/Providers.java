package io.pgbridge.internal;

import io.pgbridge.ConfigurationException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds SPI providers through {@link ServiceLoader} defensively, as SLF4J does: a provider that fails to load is
 * logged and skipped, and does not take the others down. Selection is by configuration only.
 */
public final class Providers {
    private static final Logger log = LoggerFactory.getLogger(Providers.class);

    private Providers() {}

    /** Every provider of {@code type} on the class path that loads. */
    public static <T> List<T> load(Class<T> type) {
        List<T> found = new ArrayList<>();
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        Iterator<T> it = ServiceLoader.load(type, loader != null ? loader : Providers.class.getClassLoader())
                .iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                found.add(it.next());
            } catch (ServiceConfigurationError e) {
                log.warn("Skipping a {} that failed to load: {}", type.getSimpleName(), e.getMessage(), e);
            }
        }
        return found;
    }

    /**
     * The one provider that {@code matches}.
     *
     * @param what what is selected, for messages ("sink for PGBRIDGE_UPSTREAM_URI='mqtt://...'")
     * @param describe how to list a provider in the message
     * @throws ConfigurationException when none or several match, listing what is available
     */
    public static <T> T selectOne(List<T> providers, Predicate<T> matches, String what, Function<T, String> describe) {
        List<T> matching = providers.stream().filter(matches).collect(Collectors.toList());
        if (matching.size() == 1) {
            return matching.get(0);
        }
        String available = providers.isEmpty()
                ? "none on the class path"
                : providers.stream().map(describe).sorted().collect(Collectors.joining(", "));
        if (matching.isEmpty()) {
            throw new ConfigurationException("no provider for " + what + "; available: " + available
                    + " (add the module's jar, e.g. pgbridge-amqp)");
        }
        throw new ConfigurationException("several providers for " + what + ": "
                + matching.stream().map(describe).collect(Collectors.joining(", "))
                + "; select one by name");
    }
}
