package io.pgbridge.redis;

import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import java.time.Duration;

/**
 * {@code CLIENT PAUSE <ms> WRITE} on the test Redis until closed ({@code CLIENT UNPAUSE}): Redis keeps every client's
 * write commands ({@code XADD} among them) unexecuted and unanswered meanwhile, so commands written by a sink stay in
 * flight for as long as the test needs. {@code limit} unpauses Redis by itself should a test never close it.
 */
final class PausedWrites implements AutoCloseable {
    private final StatefulRedisConnection<String, String> admin;

    PausedWrites(StatefulRedisConnection<String, String> admin, Duration limit) {
        this.admin = admin;
        client("PAUSE", Long.toString(limit.toMillis()), "WRITE");
    }

    @Override
    public void close() {
        client("UNPAUSE");
    }

    private void client(String... args) {
        CommandArgs<String, String> command = new CommandArgs<>(StringCodec.UTF8);
        for (String a : args) {
            command.add(a);
        }
        admin.sync().dispatch(CommandType.CLIENT, new StatusOutput<>(StringCodec.UTF8), command);
    }
}
