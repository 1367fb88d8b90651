#!/usr/bin/env bash
# Makes sure the local PostgreSQL (127.0.0.1:5432) and RabbitMQ (127.0.0.1:5672) are up:
# starts them if they are installed but down, then waits until they accept connections.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # name port seconds
  local name=$1 port=$2 deadline=$((SECONDS + $3))
  until port_open "$port"; do
    if ((SECONDS >= deadline)); then
      echo "$name did not come up on 127.0.0.1:$port" >&2
      return 1
    fi
    sleep 1
  done
  echo "$name is up on 127.0.0.1:$port"
}

if ! port_open 5432; then
  if ! command -v pg_ctlcluster >/dev/null || [ ! -d /etc/postgresql ]; then
    echo "PostgreSQL is not running and not installed (apt-get install postgresql)." >&2
    exit 1
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
wait_for PostgreSQL 5432 60

if ! port_open 5672; then
  if ! command -v rabbitmq-server >/dev/null; then
    echo "RabbitMQ is not running and not installed (apt-get install rabbitmq-server)." >&2
    exit 1
  fi
  echo "starting RabbitMQ"
  rabbitmq-server -detached
fi
wait_for RabbitMQ 5672 120
