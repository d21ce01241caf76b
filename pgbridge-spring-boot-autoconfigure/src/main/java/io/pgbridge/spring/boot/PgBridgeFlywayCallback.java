package io.pgbridge.spring.boot;

import io.pgbridge.sql.PgBridgeSchema;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Objects;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;
import org.springframework.beans.factory.ListableBeanFactory;

/**
 * Installs or upgrades the pgbridge schema through the application's Flyway: {@link #asFlywayCallback()} is a Flyway
 * {@link Callback} bean, which Spring Boot's Flyway auto-configuration registers with the application's {@code
 * Flyway}. Before that Flyway migrates ({@link Event#BEFORE_MIGRATE}), it applies pgbridge's scripts ({@link
 * PgBridgeSchema#migrate(javax.sql.DataSource, String)}) to the outbox schema, with their own history table ({@value
 * PgBridgeSchema#HISTORY_TABLE} inside that schema), over the application Flyway's own {@code DataSource}: the one of
 * {@code spring.flyway.url}/{@code user} when set, so the role that runs the application's migrations also creates
 * pgbridge's schema. The application's migrations run after it and may use the schema (subscribe a table, for
 * example); its history table never holds pgbridge's scripts.
 *
 * <p>Does nothing unless the bridge runs the outbox source. {@link PgBridgeLifecycle} installs the schema itself
 * before the bridge starts when no Flyway migration ran this callback (as with an application {@code Flyway} built
 * without Spring Boot's callbacks). Thread-safe: Flyway calls it from the thread that migrates.
 */
final class PgBridgeFlywayCallback {
    /** The callback's name, as Flyway reports it. */
    static final String NAME = "pgbridge-schema";

    private final PgBridgeProperties properties;
    private volatile boolean migrated;

    PgBridgeFlywayCallback(PgBridgeProperties properties) {
        this.properties = Objects.requireNonNull(properties, "properties");
    }

    /**
     * This as a Flyway {@link Callback}. A dynamic proxy rather than a class implementing {@code Callback}: Flyway 11.7
     * (Spring Boot 3.5) declares {@code supports(Event, Context)} on {@code Callback} itself, while Flyway 11.14 and
     * later (Spring Boot 4.0) inherit it from {@code GenericCallback<E extends CallbackEvent>}, so a class compiled
     * against either carries bridge methods naming types the other lacks; the proxy answers the methods by name and
     * uses only {@link Event} and {@link Context}, which both have.
     */
    Callback asFlywayCallback() {
        InvocationHandler handler = (proxy, method, args) -> switch (method.getName()) {
            case "supports" -> args[0] == Event.BEFORE_MIGRATE && properties.runsOutbox();
            case "canHandleInTransaction" -> false; // pgbridge's scripts run on connections of their own
            case "handle" -> {
                migrate((Context) args[1]);
                yield null;
            }
            case "getCallbackName" -> NAME;
            case "equals" -> proxy == args[0];
            case "hashCode" -> System.identityHashCode(proxy);
            case "toString" -> "PgBridgeFlywayCallback[" + NAME + "]";
            default -> {
                if (!method.isDefault()) {
                    throw new UnsupportedOperationException(describe(method));
                }
                yield InvocationHandler.invokeDefault(proxy, method, args);
            }
        };
        return (Callback)
                Proxy.newProxyInstance(Callback.class.getClassLoader(), new Class<?>[] {Callback.class}, handler);
    }

    /**
     * @throws io.pgbridge.SchemaException when a script fails: the application's migration then fails with it
     */
    private void migrate(Context context) {
        PgBridgeSchema.migrate(
                context.getConfiguration().getDataSource(),
                properties.getOutbox().effectiveSchema());
        migrated = true;
    }

    /** Whether the schema was migrated through the application's Flyway since the context started. */
    boolean migrated() {
        return migrated;
    }

    /** Whether a callback of these beans migrated the schema through the application's Flyway. */
    static boolean migratedIn(ListableBeanFactory beans) {
        return beans.getBeanProvider(PgBridgeFlywayCallback.class).stream().anyMatch(PgBridgeFlywayCallback::migrated);
    }

    private static String describe(Method method) {
        return "Flyway callback method " + method.getName() + " is not known to pgbridge";
    }
}
