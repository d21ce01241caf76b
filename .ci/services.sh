#!/usr/bin/env bash
# Makes sure this machine's services run on 127.0.0.1 the way pgbridge's integration tests need them, installing
# what is missing from Debian's packages, and prints the PGBRIDGE_TEST_* variables to export. Idempotent.
# Sourced by .ci/run; developers can run `source .ci/services.sh` before `./mvnw verify`.
set -euo pipefail

log() { printf '[services] %s\n' "$*" >&2; }

need_pkg() {
  local missing=()
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    if [[ ! -f /tmp/.pgbridge-apt-updated ]]; then
      apt-get update -qq >&2 && touch /tmp/.pgbridge-apt-updated
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

wait_for() { # wait_for DESCRIPTION SECONDS COMMAND...
  local what=$1 secs=$2; shift 2
  for ((i = 0; i < secs * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  log "$what did not come up within ${secs}s"; return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---- PostgreSQL: wal_level=logical, wal2json installed and allowed ----
PG_MAJOR=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
if [[ -z "$PG_MAJOR" ]]; then
  need_pkg postgresql
  PG_MAJOR=$(ls /etc/postgresql | sort -n | tail -1)
fi
need_pkg "postgresql-$PG_MAJOR-wal2json"
pg_start() { pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" main start; }
pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432; }
pg_ready || pg_start || true
wait_for PostgreSQL 60 pg_ready
psql_q() { psql -X -q -At -h 127.0.0.1 -U postgres -d postgres -c "$1"; }
restart=no
if [[ "$(psql_q 'SHOW wal_level')" != logical ]]; then
  psql_q "ALTER SYSTEM SET wal_level = logical"; restart=yes
fi
for setting in max_replication_slots max_wal_senders; do
  if (($(psql_q "SHOW $setting") < 20)); then psql_q "ALTER SYSTEM SET $setting = 20"; restart=yes; fi
done
if [[ "$(psql_q "SELECT count(*) FROM pg_settings WHERE name = 'output_plugin_libraries'")" == 1 ]]; then
  # a list setting: each library is its own quoted item ('pgoutput', 'test_decoding', 'wal2json')
  libs=$(psql_q "SELECT string_agg(quote_literal(lib), ', ') FROM (SELECT DISTINCT trim(both ' \"' FROM x) AS lib
                 FROM unnest(string_to_array(current_setting('output_plugin_libraries'), ',')) AS x
                 UNION SELECT 'pgoutput' UNION SELECT 'test_decoding' UNION SELECT 'wal2json') l WHERE lib <> ''")
  if [[ "$(psql_q 'SHOW output_plugin_libraries')" != *wal2json* ]] || [[ "$(psql_q 'SHOW output_plugin_libraries')" == *'"'* ]]; then
    psql_q "ALTER SYSTEM SET output_plugin_libraries = $libs"; restart=yes
  fi
fi
if [[ $restart == yes ]]; then
  log "restarting PostgreSQL $PG_MAJOR for the new settings"
  pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" main restart
  wait_for PostgreSQL 60 pg_ready
fi
[[ "$(psql_q 'SHOW wal_level')" == logical ]] || { log "wal_level is not logical"; exit 1; }

# ---- RabbitMQ ----
need_pkg rabbitmq-server
rabbit_ready() { rabbitmq-diagnostics -q check_port_connectivity >/dev/null 2>&1; }
if ! rabbit_ready; then
  log "starting RabbitMQ"
  # an app stopped by a fault test leaves the node up: start_app, else start the node
  rabbitmqctl -q start_app >/dev/null 2>&1 || rabbitmq-server -detached
  wait_for RabbitMQ 90 rabbit_ready
fi

# ---- Redis ----
need_pkg redis-server
REDIS_START='mkdir -p /var/lib/redis /var/log/redis && redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log'
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  log "starting Redis"; bash -c "$REDIS_START"
  wait_for Redis 30 redis-cli -h 127.0.0.1 ping
fi

# ---- Mosquitto ----
need_pkg mosquitto
MOSQUITTO_CONF=/etc/mosquitto/pgbridge-ci.conf
cat > "$MOSQUITTO_CONF" <<'CONF'
listener 1883 127.0.0.1
allow_anonymous true
persistence false
pid_file /run/mosquitto/mosquitto.pid
log_dest file /var/log/mosquitto/mosquitto.log
CONF
# the broker on 1883 only (the system's or ours, both configured under /etc/mosquitto), never another mosquitto
MQTT_PROCESS='^mosquitto -d -c /etc/mosquitto/'
MQTT_START="mkdir -p /run/mosquitto /var/log/mosquitto && chown mosquitto: /run/mosquitto /var/log/mosquitto && mosquitto -d -c $MOSQUITTO_CONF"
if ! port_open 1883; then
  log "starting Mosquitto"; bash -c "$MQTT_START"
  wait_for Mosquitto 30 port_open 1883
fi

# ---- NATS with JetStream (file storage, so that streams survive a restart) ----
need_pkg nats-server
NATS_START='mkdir -p /var/lib/nats-server && start-stop-daemon --start --oknodo --background --make-pidfile --pidfile /run/pgbridge-nats.pid --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server'
NATS_PROCESS='^/usr/sbin/nats-server -a 127.0.0.1 -p 4222 .*-js'
if ! port_open 4222; then
  log "starting NATS"; bash -c "$NATS_START"
  wait_for NATS 30 port_open 4222
fi
pgrep -f "$NATS_PROCESS" >/dev/null || { log "127.0.0.1:4222 is not a nats-server started with -js (JetStream)"; exit 1; }

# ---- Kafka: a single-node KRaft broker from Maven Central's jars (.ci/kafka), topics created explicitly ----
KAFKA_DIR=/var/lib/pgbridge-kafka
KAFKA_BROKER="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kafka/broker.sh"
if ! port_open 9092; then
  log "starting Kafka"; "$KAFKA_BROKER" start "$KAFKA_DIR" 9092 9093
fi

# ---- Chromium, for the WebSocket viewer page test (headless) ----
need_pkg chromium fonts-dejavu-core

cat <<VARS
export PGBRIDGE_TEST_POSTGRES_URL='postgresql://postgres@127.0.0.1:5432/postgres'
export PGBRIDGE_TEST_AMQP_URL='amqp://guest:guest@127.0.0.1:5672/%2f'
export PGBRIDGE_TEST_MQTT_URL='mqtt://127.0.0.1:1883'
export PGBRIDGE_TEST_REDIS_URL='redis://127.0.0.1:6379'
export PGBRIDGE_TEST_KAFKA_URL='kafka://127.0.0.1:9092'
export PGBRIDGE_TEST_NATS_URL='nats://127.0.0.1:4222'
export PGBRIDGE_TEST_POSTGRES_STOP='pg_ctlcluster --skip-systemctl-redirect $PG_MAJOR main stop -m fast'
export PGBRIDGE_TEST_POSTGRES_START='pg_ctlcluster --skip-systemctl-redirect $PG_MAJOR main start && for i in \$(seq 240); do pg_isready -q -h 127.0.0.1 && break; sleep 0.25; done'
export PGBRIDGE_TEST_AMQP_STOP='rabbitmqctl -q stop_app'
export PGBRIDGE_TEST_AMQP_START='rabbitmqctl -q start_app && for i in \$(seq 240); do rabbitmq-diagnostics -q check_port_connectivity >/dev/null 2>&1 && break; sleep 0.25; done'
export PGBRIDGE_TEST_MQTT_STOP='pkill -f "$MQTT_PROCESS"; for i in \$(seq 40); do pgrep -f "$MQTT_PROCESS" >/dev/null || break; sleep 0.25; done'
export PGBRIDGE_TEST_MQTT_START='$MQTT_START && for i in \$(seq 120); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.25; done'
export PGBRIDGE_TEST_REDIS_STOP='redis-cli -h 127.0.0.1 shutdown nosave || true'
export PGBRIDGE_TEST_REDIS_START='${REDIS_START//\'/\'\\\'\'} && for i in \$(seq 120); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.25; done'
export PGBRIDGE_TEST_KAFKA_STOP='$KAFKA_BROKER stop $KAFKA_DIR'
export PGBRIDGE_TEST_KAFKA_START='$KAFKA_BROKER start $KAFKA_DIR 9092 9093'
export PGBRIDGE_TEST_NATS_STOP='pkill -f "$NATS_PROCESS"; for i in \$(seq 120); do pgrep -f "$NATS_PROCESS" >/dev/null || break; sleep 0.25; done'
export PGBRIDGE_TEST_NATS_START='$NATS_START && for i in \$(seq 120); do (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null && break; sleep 0.25; done'
VARS
