package io.pgbridge.spi.support;

import io.pgbridge.spi.Problems;
import io.pgbridge.spi.Setting;
import io.pgbridge.spi.Settings;
import io.pgbridge.spi.SinkConfig;
import io.pgbridge.spi.UpstreamSettings;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * An upstream URI that names a list of servers, {@code scheme://[user[:password]@]host[:port][,host[:port]...]}, the
 * way Kafka's bootstrap servers and a NATS cluster are written. {@link URI} does not take such an authority apart
 * (a list of servers is not a server-based authority), so this does. Immutable; {@link #toString()} hides the
 * password.
 *
 * @param scheme the scheme, lower case
 * @param hostPorts each server as {@code host:port}, the default port filled in; never empty
 * @param user the user from the URI, percent-decoded; {@code null} when none
 * @param password the password from the URI, percent-decoded; {@code null} when none
 */
public record ServerList(String scheme, List<String> hostPorts, String user, Secret password) {

    public ServerList {
        hostPorts = List.copyOf(hostPorts);
    }

    /**
     * Parses the sink's upstream URI. Every problem found is added to {@code problems}, naming
     * {@code PGBRIDGE_UPSTREAM_URI} with its value redacted: a missing or invalid URI, a scheme not in
     * {@code schemes}, no server, a server that is not {@code host[:port]}, and a path, query or fragment (the sink's
     * options are settings, listed in the message).
     *
     * @param schemes the accepted schemes, lower case
     * @param defaultPort the port of a server written without one
     * @param form how the URI is written, for messages ({@code kafka://host:9092[,host2:9092]})
     * @param settings the sink's settings, named in the message about a path or query
     * @return the parsed list, or {@code null} when the URI cannot be taken apart at all (the problems say why)
     */
    public static ServerList parse(
            SinkConfig sink,
            Set<String> schemes,
            int defaultPort,
            String form,
            List<Setting> settings,
            Problems problems) {
        return parse(sink.uri(), schemes, defaultPort, form, settings, problems);
    }

    /**
     * Parses an upstream URI given in code (a sink config's builder) as {@link #parse(SinkConfig, Set, int, String,
     * List, Problems)} does.
     *
     * @param uri the URI, or {@code null} (a problem: it is missing)
     */
    public static ServerList parse(
            String uri, Set<String> schemes, int defaultPort, String form, List<Setting> settings, Problems problems) {
        return parse(uri, SinkConfig.parseUri(uri, form, problems), schemes, defaultPort, form, settings, problems);
    }

    private static ServerList parse(
            String text,
            URI uri,
            Set<String> schemes,
            int defaultPort,
            String form,
            List<Setting> settings,
            Problems problems) {
        if (uri == null) {
            return null;
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        if (!schemes.contains(scheme)) {
            problems.add(problem(
                    text,
                    "must start with "
                            + String.join(
                                    " or ",
                                    schemes.stream()
                                            .sorted()
                                            .map(s -> s + "://")
                                            .toList())));
        }
        String authority = uri.getRawAuthority();
        if (authority == null || authority.isEmpty()) {
            problems.add(problem(text, "names no server; write it as " + form));
            return null;
        }
        if ((uri.getRawPath() != null
                        && !uri.getRawPath().isEmpty()
                        && !uri.getRawPath().equals("/"))
                || uri.getRawQuery() != null
                || uri.getRawFragment() != null) {
            problems.add(problem(
                    text,
                    "takes no path, query or fragment; use the settings "
                            + settings.stream().map(Setting::envName).toList()));
        }
        int at = authority.lastIndexOf('@');
        String user = null;
        Secret password = null;
        if (at >= 0) {
            String info = authority.substring(0, at);
            int colon = info.indexOf(':');
            user = UserInfo.decode(colon < 0 ? info : info.substring(0, colon));
            password = colon < 0 ? null : Secret.of(UserInfo.decode(info.substring(colon + 1)));
            user = user.isEmpty() ? null : user;
        }
        List<String> servers = new ArrayList<>();
        for (String server : authority.substring(at + 1).split(",", -1)) {
            String hostPort = hostPort(scheme, server.trim(), defaultPort);
            if (hostPort == null) {
                problems.add(problem(text, "has a server that is not host[:port]: '" + server + "'"));
            } else {
                servers.add(hostPort);
            }
        }
        return servers.isEmpty() ? null : new ServerList(scheme, servers, user, password);
    }

    /** {@code host:port} with the default port filled in, or {@code null} when {@code text} is not one. */
    private static String hostPort(String scheme, String text, int defaultPort) {
        URI server;
        try {
            server = new URI(scheme + "://" + text);
        } catch (URISyntaxException e) {
            return null;
        }
        if (server.getHost() == null
                || server.getRawUserInfo() != null
                || !server.getRawPath().isEmpty()) {
            return null;
        }
        return server.getHost() + ":" + (server.getPort() > 0 ? server.getPort() : defaultPort);
    }

    private static String problem(String uri, String rule) {
        return Settings.problem(UpstreamSettings.URI, uri, rule);
    }

    @Override
    public String toString() {
        return "ServerList{" + scheme + "://" + (user == null ? "" : user + (password == null ? "" : ":****") + "@")
                + String.join(",", hostPorts) + '}';
    }
}
