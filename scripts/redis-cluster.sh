#!/usr/bin/env bash
# Starts a local Redis Cluster for the tests and benches: 3 masters + 3 replicas of Debian's
# redis-server on 127.0.0.1 ports 7000-7005 (REDIS_CLUSTER_PORT_BASE), data in a temp dir
# (REDIS_CLUSTER_DIR). Idempotent: a node that is already up is left alone, a node that died (the
# failover test kills one) is started again from its nodes.conf and rejoins as a replica, and the
# cluster is created only once. Waits until `cluster_state:ok`, then prints the env to use:
#   export REDIS_CLUSTER_NODES=127.0.0.1:7000,...,127.0.0.1:7005
# `--stop` shuts the nodes down (data dir kept). Never touches the standalone Redis on 6379.
set -euo pipefail

BASE=${REDIS_CLUSTER_PORT_BASE:-7000}
DIR=${REDIS_CLUSTER_DIR:-${TMPDIR:-/tmp}/vespid-redis-cluster}
PORTS=$(seq "$BASE" $((BASE + 5)))
log() { echo "redis-cluster: $*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
cli() { local p=$1; shift; redis-cli -h 127.0.0.1 -p "$p" "$@"; }

if ! command -v redis-server >/dev/null 2>&1; then
  log "redis-server is not installed (apt-get install -y redis-server)"
  exit 1
fi

if [ "${1:-}" = "--stop" ]; then
  for p in $PORTS; do port_open "$p" && cli "$p" shutdown nosave >/dev/null 2>&1 || true; done
  exit 0
fi

mkdir -p "$DIR"
for p in $PORTS; do
  port_open "$p" && continue
  mkdir -p "$DIR/$p"
  # Persistence off (tests only); a short node timeout so a killed master fails over in about a second.
  redis-server --daemonize yes --bind 127.0.0.1 --port "$p" --dir "$DIR/$p" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 1000 \
    --save "" --appendonly no --logfile "$DIR/$p/redis.log" --pidfile "$DIR/$p/redis.pid"
done
for p in $PORTS; do
  for _ in $(seq 1 100); do port_open "$p" && break; sleep 0.1; done
  port_open "$p" || { log "node $p did not come up (see $DIR/$p/redis.log)"; exit 1; }
done

# A node started for the first time knows only itself: create the cluster once.
known=$(cli "$BASE" cluster info | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')
if [ "${known:-1}" -le 1 ]; then
  log "creating the cluster"
  nodes=""
  for p in $PORTS; do nodes="$nodes 127.0.0.1:$p"; done
  # shellcheck disable=SC2086
  redis-cli --cluster create $nodes --cluster-replicas 1 --cluster-yes >/dev/null
fi

ok() { for p in $PORTS; do cli "$p" cluster info | grep -q '^cluster_state:ok' || return 1; done; }
for _ in $(seq 1 150); do ok && break; sleep 0.2; done
ok || { log "cluster_state is not ok (see $DIR/*/redis.log)"; exit 1; }

nodes=""
for p in $PORTS; do nodes="${nodes:+$nodes,}127.0.0.1:$p"; done
echo "export REDIS_CLUSTER_NODES=$nodes"
