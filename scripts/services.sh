#!/usr/bin/env bash
# Makes sure the services the integration tests need are up on this machine: Postgres, Redis and a
# Docker engine, plus a local Redis Cluster (scripts/redis-cluster.sh). Starts what is installed but stopped; installs Debian's docker.io when no engine
# exists. Safe to run repeatedly. Prints the env to use (DATABASE_URL, REDIS_URL).
set -euo pipefail

DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
log() { echo "services: $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for() { # $1 = description, rest = command
  local what=$1; shift
  for _ in $(seq 1 60); do "$@" && return 0; sleep 0.5; done
  log "$what did not come up"; return 1
}

# Postgres
if ! port_open 127.0.0.1 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    log "starting Postgres"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    wait_for Postgres port_open 127.0.0.1 5432
  else
    log "Postgres is not installed: install it (apt-get install -y postgresql) or set DATABASE_URL"
  fi
fi

# Redis
if ! port_open 127.0.0.1 6379; then
  if command -v redis-server >/dev/null 2>&1; then
    log "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for Redis port_open 127.0.0.1 6379
  else
    log "Redis is not installed: install it (apt-get install -y redis-server) or set REDIS_URL"
  fi
fi

# Docker engine
docker_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
if ! docker_up; then
  if ! command -v dockerd >/dev/null 2>&1; then
    log "installing Debian's docker.io"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static >/dev/null
  fi
  log "starting dockerd"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  wait_for dockerd docker_up
fi

# Redis Cluster (3 masters + 3 replicas on 7000-7005) for the cluster-mode tests; idempotent.
if [ -z "${REDIS_CLUSTER_NODES:-}" ] && command -v redis-server >/dev/null 2>&1; then
  REDIS_CLUSTER_NODES=$(bash "$(dirname "$0")/redis-cluster.sh" | sed -n 's/^export REDIS_CLUSTER_NODES=//p') || log "Redis Cluster did not come up"
fi

echo "export DATABASE_URL=$DATABASE_URL"
echo "export REDIS_URL=$REDIS_URL"
if [ -n "${REDIS_CLUSTER_NODES:-}" ]; then echo "export REDIS_CLUSTER_NODES=$REDIS_CLUSTER_NODES"; fi
