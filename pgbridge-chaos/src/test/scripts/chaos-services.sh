#!/usr/bin/env bash
# The chaos suite's own PostgreSQL 15 cluster, RabbitMQ node, Mosquitto broker and Redis server, on ports no other
# test uses, so that the nemesis can crash and restart them without disturbing anyone, and so that the suite does not
# depend on the machine's services (another module's tests stop and start those). Each is stopped through its own pid
# file or port, never by a machine-wide kill. Run as root (as CI does on this machine); data under CHAOS_BASE (default
# /var/lib/pgbridge-chaos). Commands:
#   start             (re)start all four from scratch: a leftover of an earlier run is stopped and its data removed
#   stop              stop all four and remove the data
#   pg-restart        immediate restart of PostgreSQL (pg_ctl -m immediate: a crash, then recovery)
#   rabbit-kill       kill -9 of the RabbitMQ node, then a fresh start of it
#   rabbit-restart    graceful stop and start of the RabbitMQ application (stop_app / start_app)
#   rabbit-refuse Q X queues matching Q refuse every publish (policy max-length 0, overflow reject-publish); the
#                     messages ready in them when the policy applies are dropped from the head, so they are
#                     dead-lettered to exchange X (a confirmed message must not vanish in a refusal)
#   rabbit-accept     removes that policy
set -euo pipefail
CMD=${1:?command}
BASE=${CHAOS_BASE:-/var/lib/pgbridge-chaos}
PG_PORT=${CHAOS_PG_PORT:-5499}
AMQP_PORT=${CHAOS_AMQP_PORT:-5699}
DIST_PORT=${CHAOS_DIST_PORT:-25699}
MQTT_PORT=${CHAOS_MQTT_PORT:-1899}
REDIS_PORT=${CHAOS_REDIS_PORT:-6399}
PGBIN=${CHAOS_PGBIN:-/usr/lib/postgresql/15/bin}
RNODE=rabbit_chaos@localhost
PGDATA=$BASE/pg
log() { printf '[chaos-services] %s\n' "$*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 480); do port_open "$1" && return 0; sleep 0.25; done; log "port $1 not up"; return 1; }
wait_port_closed() { for _ in $(seq 240); do port_open "$1" || return 0; sleep 0.25; done; log "port $1 still open"; return 1; }
pg() { su postgres -c "$PGBIN/pg_ctl -D $PGDATA $*" >/dev/null; }
RENV=(RABBITMQ_NODENAME=$RNODE RABBITMQ_NODE_PORT=$AMQP_PORT RABBITMQ_DIST_PORT=$DIST_PORT
  RABBITMQ_MNESIA_BASE=$BASE/rabbit/mnesia RABBITMQ_LOG_BASE=$BASE/rabbit/log
  RABBITMQ_ENABLED_PLUGINS_FILE=$BASE/rabbit/enabled_plugins RABBITMQ_PID_FILE=$BASE/rabbit/pid
  RABBITMQ_CONFIG_FILE=$BASE/rabbit/rabbitmq.conf
  "RABBITMQ_SERVER_START_ARGS=-kernel inet_dist_listen_min $DIST_PORT -kernel inet_dist_listen_max $DIST_PORT")

pg_stop() {
  if [[ -f $PGDATA/postmaster.pid ]]; then pg "-m immediate -w stop" || true; fi
}
pg_init_start() {
  rm -rf "$PGDATA"; mkdir -p "$PGDATA"; chown postgres: "$BASE" "$PGDATA"
  su postgres -c "$PGBIN/initdb -D $PGDATA -U postgres --auth=trust -E UTF8" >/dev/null
  cat >> "$PGDATA/postgresql.conf" <<CONF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$BASE'
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
max_connections = 100
fsync = off
wal_sender_timeout = 10s
output_plugin_libraries = 'pgoutput, test_decoding, wal2json'
CONF
  pg "-l $BASE/pg.log -w start"
}
rabbit_pid() { cat "$BASE/rabbit/pid" 2>/dev/null || true; }
rabbit_kill() {
  local pid; pid=$(rabbit_pid)
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done; fi
  rm -f "$BASE/rabbit/pid"
  wait_port_closed "$AMQP_PORT"
}
rabbit_start() {
  mkdir -p "$BASE/rabbit"; echo "[]." > "$BASE/rabbit/enabled_plugins"
  grep -v '^listeners' /etc/rabbitmq/rabbitmq.conf > "$BASE/rabbit/rabbitmq.conf" 2>/dev/null || true
  echo "listeners.tcp.default = 127.0.0.1:$AMQP_PORT" >> "$BASE/rabbit/rabbitmq.conf"
  chown -R rabbitmq: "$BASE/rabbit"
  env "${RENV[@]}" rabbitmq-server -detached >/dev/null 2>&1
  wait_port "$AMQP_PORT"
}
mosquitto_stop() {
  local pid; pid=$(cat "$BASE/mosquitto/pid" 2>/dev/null || true)
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done; fi
  rm -rf "$BASE/mosquitto"
  wait_port_closed "$MQTT_PORT"
}
mosquitto_start() {
  mkdir -p "$BASE/mosquitto"; chown mosquitto: "$BASE/mosquitto" 2>/dev/null || true
  # max_queued_messages 0: Mosquitto's default (1000) drops QoS 1 messages it already acknowledged to the bridge when a
  # subscriber falls that far behind, even a connected one (a catch-up burst on a loaded machine does it): that would
  # be the broker's loss, not the bridge's. sys_interval 1: $SYS/broker/publish/messages/dropped, which the suite
  # reads to tell such a loss apart (MqttSide), is published every second.
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\nsys_interval 1\npid_file %s\n' \
    "$MQTT_PORT" "$BASE/mosquitto/pid" > "$BASE/mosquitto/mosquitto.conf"
  mosquitto -d -c "$BASE/mosquitto/mosquitto.conf"
  wait_port "$MQTT_PORT"
}
redis_stop() {
  if port_open "$REDIS_PORT"; then redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; fi
  rm -rf "$BASE/redis"
  wait_port_closed "$REDIS_PORT"
}
redis_start() {
  mkdir -p "$BASE/redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --dir "$BASE/redis" --logfile "$BASE/redis/log" --pidfile "$BASE/redis/pid" >/dev/null
  wait_port "$REDIS_PORT"
}

case $CMD in
  start)
    mkdir -p "$BASE"; chmod 755 "$BASE"
    if port_open "$PG_PORT" || port_open "$AMQP_PORT" || port_open "$MQTT_PORT" || port_open "$REDIS_PORT"; then
      log "stopping a leftover of an earlier run"
    fi
    pg_stop; rabbit_kill; mosquitto_stop; redis_stop
    if port_open "$PG_PORT"; then log "port $PG_PORT is taken by something else"; exit 1; fi
    rm -rf "$BASE/rabbit"
    pg_init_start; rabbit_start; mosquitto_start; redis_start ;;
  stop)
    pg_stop; rabbit_kill; mosquitto_stop; redis_stop; rm -rf "$PGDATA" "$BASE/rabbit" ;;
  pg-restart)
    pg "-m immediate -w stop" || true; pg "-l $BASE/pg.log -w start" ;;
  rabbit-kill)
    rabbit_kill; rabbit_start ;;
  rabbit-restart)
    rabbitmqctl -n $RNODE -q stop_app; rabbitmqctl -n $RNODE -q start_app; wait_port "$AMQP_PORT" ;;
  rabbit-refuse)
    rabbitmqctl -n $RNODE -q set_policy --apply-to queues chaos-refuse "^${2:?queue}\$" \
      "{\"max-length\":0,\"overflow\":\"reject-publish\",\"dead-letter-exchange\":\"${3:?exchange}\"}" ;;
  rabbit-accept)
    rabbitmqctl -n $RNODE -q clear_policy chaos-refuse ;;
  *) log "unknown command $CMD"; exit 2 ;;
esac
