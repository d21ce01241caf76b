/**
 * Helpers for source and sink authors, outside the SPI proper: {@link io.pgbridge.spi.support.Secret} (a value
 * printed as {@code ****}), {@link io.pgbridge.spi.support.Redaction} (passwords out of URIs and messages),
 * {@link io.pgbridge.spi.support.UserInfo} (percent-decoded URI credentials), {@link
 * io.pgbridge.spi.support.ServerList} (multi-server upstream URIs), {@link
 * io.pgbridge.spi.support.NamedThreadFactory} ({@code pgbridge-<role>-<n>} threads) and {@link
 * io.pgbridge.spi.support.Arguments} (checks of typed configuration builders' arguments).
 */
package io.pgbridge.spi.support;
