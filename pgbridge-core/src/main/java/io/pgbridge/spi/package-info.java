/**
 * The service provider interface for source and sink authors.
 *
 * <p>A sink module implements {@link io.pgbridge.spi.Sink} and registers a {@link io.pgbridge.spi.SinkProvider} in
 * {@code META-INF/services/io.pgbridge.spi.SinkProvider}; a source implements {@link io.pgbridge.spi.EventSource}
 * and registers a {@link io.pgbridge.spi.SourceProvider}. {@link java.util.ServiceLoader} only <em>finds</em>
 * providers: configuration <em>chooses</em> them, by name or URI scheme. A jar on the classpath never activates
 * itself.
 */
package io.pgbridge.spi;
