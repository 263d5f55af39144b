# shellcheck shell=bash
# A three-broker KRaft cluster for kafka-local (sourced by it): `start --brokers N`, `kill N`,
# `restart N`, and `stop` of the whole cluster.
#
# Layout: one dedicated controller (node 100) and N brokers (nodes 1..N), each a JVM with its own
# port, data and logs under $KHOME/cluster/<node>/. One controller, not a quorum of three, because
# the fault tests kill brokers, never the controller: with the controller alive, the ISR shrinks when
# brokers die, so a write meets `min.insync.replicas` (NOT_ENOUGH_REPLICAS) instead of hanging on a
# lost quorum, which is the behaviour the tests assert. A production cluster runs three controllers.

CLUSTER=""        # $KHOME/cluster, set by cluster_paths
CONTROLLER_ID=100

cluster_paths() { CLUSTER="$KHOME/cluster"; }

node_dir() { echo "$CLUSTER/$1"; }   # controller | broker-N

node_pid() { local f; f="$(node_dir "$1")/kafka.pid"; [[ -f $f ]] && cat "$f" || true; }

node_alive() {
  local pid cmd
  pid=$(node_pid "$1")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *" kafka.Kafka $(node_dir "$1")/server.properties"* ]]
}

cluster_bootstrap() {
  local n list=""
  for ((n = 1; n <= $(cat "$CLUSTER/brokers"); n++)); do
    list+="${list:+,}127.0.0.1:$(cat "$(node_dir "broker-$n")/port")"
  done
  echo "$list"
}

# server.properties of one node: the controller, or broker N. Replication as the README recommends
# for a cluster: every internal topic on three brokers, two in sync to accept a write.
write_node_config() {
  local node=$1 dir cport brokers
  dir=$(node_dir "$node")
  cport=$(cat "$(node_dir controller)/port")
  brokers=$(cat "$CLUSTER/brokers")
  mkdir -p "$dir/data" "$dir/logs"
  {
    echo "# Written by kafka-local (cluster) on every start of this node."
    echo "controller.quorum.bootstrap.servers=127.0.0.1:$cport"
    echo "controller.listener.names=CONTROLLER"
    echo "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    echo "log.dirs=$dir/data"
    if [[ $node == controller ]]; then
      echo "process.roles=controller"
      echo "node.id=$CONTROLLER_ID"
      echo "listeners=CONTROLLER://127.0.0.1:$cport"
      echo "advertised.listeners=CONTROLLER://127.0.0.1:$cport"
    else
      local port rf isr
      port=$(cat "$dir/port")
      rf=$((brokers < 3 ? brokers : 3))
      isr=$((rf > 1 ? 2 : 1))
      echo "process.roles=broker"
      echo "node.id=${node#broker-}"
      echo "listeners=PLAINTEXT://127.0.0.1:$port"
      echo "advertised.listeners=PLAINTEXT://127.0.0.1:$port"
      echo "inter.broker.listener.name=PLAINTEXT"
      echo "auto.create.topics.enable=false"
      echo "num.partitions=1"
      echo "default.replication.factor=$rf"
      echo "min.insync.replicas=$isr"
      echo "unclean.leader.election.enable=false"
      echo "offsets.topic.replication.factor=$rf"
      echo "offsets.topic.num.partitions=3"
      echo "transaction.state.log.replication.factor=$rf"
      echo "transaction.state.log.min.isr=$isr"
      echo "transaction.state.log.num.partitions=3"
      echo "transaction.partition.verification.enable=true"
      echo "share.coordinator.state.topic.replication.factor=$rf"
      echo "share.coordinator.state.topic.min.isr=$isr"
      echo "share.coordinator.state.topic.num.partitions=1"
      echo "group.initial.rebalance.delay.ms=0"
      echo "log.cleaner.dedupe.buffer.size=16777216"
      # a killed broker is noticed within seconds, so the ISR shrinks and leaders move quickly
      echo "broker.session.timeout.ms=6000"
      echo "broker.heartbeat.interval.ms=1000"
      echo "replica.lag.time.max.ms=6000"
    fi
    if [[ -f $KHOME/server.extra.properties ]]; then
      echo "# from server.extra.properties"
      cat "$KHOME/server.extra.properties"
    fi
  } > "$dir/server.properties"
}

format_node() {
  local node=$1 dir
  dir=$(node_dir "$node")
  local -a how=()
  [[ $node == controller ]] && how=(--standalone)
  if ! "$JAVA" -Xmx256m -Dlog4j2.configurationFile="$KHOME/tools-log4j2.properties" -cp "$LIBS/*" \
        kafka.tools.StorageTool format "${how[@]}" -t "$(cat "$CLUSTER/cluster.id")" \
        -c "$dir/server.properties" >"$dir/logs/format.out" 2>&1 </dev/null; then
    cat "$dir/logs/format.out" >&2
    die "formatting $node failed"
  fi
}

launch_node() {
  local node=$1 dir pid
  dir=$(node_dir "$node")
  local -a jvm
  # shellcheck disable=SC2206  # KAFKA_HEAP_OPTS is a list of flags
  jvm=(${KAFKA_HEAP_OPTS:--Xms128m -Xmx384m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
       -XX:TieredStopAtLevel=1)
  nohup "$JAVA" "${jvm[@]}" -Dkafka.logs.dir="$dir/logs" -Dlog4j2.configurationFile="$KHOME/log4j2.properties" \
        -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" >"$dir/logs/kafka.out" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" > "$dir/kafka.pid"
}

# Wait until broker N answers a metadata request; the controller until its port accepts.
await_node() {
  local node=$1 deadline=$((SECONDS + START_TIMEOUT)) dir
  dir=$(node_dir "$node")
  while ((SECONDS < deadline)); do
    if [[ -n $(node_pid "$node") ]] && ! kill -0 "$(node_pid "$node")" 2>/dev/null; then
      tail -n 40 "$dir/logs/server.log" "$dir/logs/kafka.out" >&2 2>/dev/null || true
      die "$node exited during start-up (logs in $dir/logs)"
    fi
    if [[ $node == controller ]]; then
      "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' \
        "$(cat "$dir/port")" 2>/dev/null && return 0
    elif probe "$(cat "$dir/port")"; then
      return 0
    fi
    sleep 0.5
  done
  die "$node not ready within ${START_TIMEOUT}s (logs in $dir/logs)"
}

cluster_start() {
  local brokers=$1 n ports
  take_lock
  cluster_paths
  if [[ -f $CLUSTER/brokers ]] && node_alive controller; then
    for ((n = 1; n <= $(cat "$CLUSTER/brokers"); n++)); do
      node_alive "broker-$n" || die "the cluster in $CLUSTER is partly running; stop it first ($0 stop)"
    done
    log "cluster already running"
    cluster_bootstrap
    return 0
  fi
  cd "$KHOME"
  find_java
  ensure_libs
  write_config 0 0   # only for log4j2.properties and tools-log4j2.properties
  rm -f "$PROPS"
  rm -rf "$CLUSTER" && mkdir -p "$CLUSTER"
  echo "$brokers" > "$CLUSTER/brokers"
  new_cluster_id > "$CLUSTER/cluster.id"
  local -a wanted=("${KAFKA_CONTROLLER_PORT:-19090}")
  for ((n = 1; n <= brokers; n++)); do wanted+=($((${KAFKA_PORT:-19091} + n))); done
  ports=$(KAFKA_PORT="" "$PY" - "${wanted[@]}" <<'EOF'
import socket, sys
def bindable(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port)); return True
    except OSError:
        return False
    finally:
        s.close()
chosen = []
for pref in map(int, sys.argv[1:]):
    port = pref
    while port in chosen or not bindable(port):
        s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    chosen.append(port)
print(*chosen)
EOF
  ) || die "could not pick free ports"
  read -r -a ports <<<"$ports"
  mkdir -p "$(node_dir controller)"
  echo "${ports[0]}" > "$(node_dir controller)/port"
  for ((n = 1; n <= brokers; n++)); do
    mkdir -p "$(node_dir "broker-$n")"
    echo "${ports[$n]}" > "$(node_dir "broker-$n")/port"
  done
  for node in controller $(for ((n = 1; n <= brokers; n++)); do echo "broker-$n"; done); do
    write_node_config "$node"
    format_node "$node"
  done
  log "starting a Kafka $KAFKA_VERSION cluster: controller on 127.0.0.1:${ports[0]}, $brokers brokers, state in $CLUSTER"
  launch_node controller
  await_node controller
  for ((n = 1; n <= brokers; n++)); do launch_node "broker-$n"; done
  for ((n = 1; n <= brokers; n++)); do await_node "broker-$n"; done
  cluster_bootstrap > "$CLUSTER/bootstrap"
  log "cluster ready"
  cluster_bootstrap
}

broker_node() {
  cluster_paths
  [[ -f $CLUSTER/brokers ]] || die "no cluster in $KHOME (start one with: $0 start --brokers 3)"
  [[ $1 =~ ^[0-9]+$ && $1 -ge 1 && $1 -le $(cat "$CLUSTER/brokers") ]] \
    || die "no broker '$1' (the cluster has brokers 1 to $(cat "$CLUSTER/brokers"))"
  echo "broker-$1"
}

cluster_kill() {
  local node pid
  node=$(broker_node "$1")
  node_alive "$node" || { log "$node is not running"; return 0; }
  pid=$(node_pid "$node")
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  log "$node (pid $pid) killed"
}

cluster_restart() {
  local node
  node=$(broker_node "$1")
  take_lock
  node_alive "$node" && { log "$node is already running"; cluster_bootstrap; return 0; }
  find_java
  write_node_config "$node"
  launch_node "$node"
  await_node "$node"
  log "$node restarted on its data"
  cluster_bootstrap
}

cluster_stop() {
  local n node pid i
  take_lock
  for ((n = $(cat "$CLUSTER/brokers"); n >= 0; n--)); do
    if ((n == 0)); then node=controller; else node="broker-$n"; fi
    node_alive "$node" || continue
    pid=$(node_pid "$node")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT * 5; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -f "$CLUSTER/bootstrap"
  log "cluster stopped"
}
