#!/usr/bin/env bash
# A single-node KRaft Kafka broker (broker and controller in one JVM) on 127.0.0.1, without Docker: its jars come
# from Maven Central through .ci/kafka/pom.xml.
#
#   broker.sh start DIR PORT CONTROLLER_PORT   fetches the jars into DIR/libs (once), formats DIR/data (once),
#                                              starts the broker and returns once it has started and PORT
#                                              accepts connections
#   broker.sh stop DIR                         stops it gracefully (SIGTERM, log flushed) and waits for the exit
#
# Topics are not created automatically (auto.create.topics.enable=false), as a production broker should be set.
# The JVM is kept small (KAFKA_HEAP, default -Xmx512m). Broker log: DIR/server.log.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CLUSTER_ID=MkU3OEVBNTcwNTJENDM2Qk # any fixed base64 UUID: the cluster is local and single-node
HEAP=${KAFKA_HEAP:--Xms128m -Xmx512m}

log() { printf '[kafka] %s\n' "$*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
running() { [[ -f "$1/broker.pid" ]] && kill -0 "$(cat "$1/broker.pid")" 2>/dev/null; }

start() {
  local dir=$1 port=$2 cport=$3
  mkdir -p "$dir"
  if running "$dir"; then log "already running in $dir"; return 0; fi
  if [[ ! -f "$dir/libs/.complete" ]]; then
    log "fetching the broker's jars into $dir/libs"
    "$ROOT/mvnw" -B -q -f "$ROOT/.ci/kafka/pom.xml" dependency:copy-dependencies -DoutputDirectory="$dir/libs" >&2
    touch "$dir/libs/.complete"
  fi
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
  cat > "$dir/log4j2.properties" <<PROPS
appender.file.type=File
appender.file.name=file
appender.file.fileName=$dir/server.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=WARN
rootLogger.appenderRef.file.ref=file
logger.server.name=kafka.server.KafkaRaftServer
logger.server.level=INFO
PROPS
  local java=(java $HEAP -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$dir/libs/*")
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    "${java[@]}" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$dir/server.properties" >"$dir/format.log" 2>&1 \
      || { cat "$dir/format.log" >&2; return 1; }
  fi
  local started=$SECONDS logged; logged=$(cat "$dir/server.log" 2>/dev/null | wc -l)
  setsid "${java[@]}" kafka.Kafka "$dir/server.properties" >>"$dir/server.out" 2>&1 </dev/null &
  echo $! > "$dir/broker.pid"
  for ((i = 0; i < 240; i++)); do
    if port_open "$port" && tail -n +"$((logged + 1))" "$dir/server.log" | grep -q 'Kafka Server started'; then
      log "up on 127.0.0.1:$port after $((SECONDS - started))s"; return 0; fi
    running "$dir" || break
    sleep 0.25
  done
  log "did not come up on 127.0.0.1:$port, see $dir/server.log and $dir/server.out"
  return 1
}

stop() {
  local dir=$1
  running "$dir" || { rm -f "$dir/broker.pid"; return 0; }
  local pid; pid=$(cat "$dir/broker.pid")
  kill -TERM "$pid"
  for ((i = 0; i < 240; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then log "did not stop within 60s: killing $pid"; kill -KILL "$pid"; fi
  rm -f "$dir/broker.pid"
}

case "${1:-}" in
  start) [[ $# == 4 ]] || { echo "usage: $0 start DIR PORT CONTROLLER_PORT" >&2; exit 2; }; start "$2" "$3" "$4" ;;
  stop) [[ $# == 2 ]] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
  *) echo "usage: $0 start DIR PORT CONTROLLER_PORT | stop DIR" >&2; exit 2 ;;
esac
