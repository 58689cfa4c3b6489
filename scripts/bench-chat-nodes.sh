#!/usr/bin/env bash
# Chat delivery across two nodes on this machine: a NATS server (built from
# the pinned nats-server module), two roomcast nodes sharing one data
# directory (one SQLite file) and the NATS server, both pinned to CPU 0; the
# load generator on CPU 1 connects its senders to node 1 and every other
# client to node 2, so every delivery crosses NATS. Loopback only.
#
#   scripts/bench-chat-nodes.sh [CLIENTS] [RATE] [DURATION]
#
# As scripts/bench-chat.sh, it creates ceil(RATE × 10 / 5) + 1 users for the
# senders. Everything it starts is stopped when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-1000}
rate=${2:-20}
duration=${3:-10s}
nats_port=${NATS_PORT:-14222}
http1=${HTTP_PORT:-18081}
http2=$((http1 + 1))
rtmp1=${RTMP_PORT:-19351}
rtmp2=$((rtmp1 + 1))
bin=${BIN:-bin/roomcast}

[ -x "$bin" ] || make build >/dev/null
data=$(mktemp -d)
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true
  if [ -n "${keep_logs:-}" ]; then tail -20 "$data"/node*.log >&2 || true; fi
  rm -rf "$data"
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

go build -o "$data/nats-server" github.com/nats-io/nats-server/v2
"$data/nats-server" -a 127.0.0.1 -p "$nats_port" -js -sd "$data/jetstream" >"$data/nats.log" 2>&1 &
pids+=($!)

users=$(( (${rate%.*} * 10 + 4) / 5 + 1 ))
for i in $(seq 1 "$users"); do
  "$bin" user add "bench$i" --password bench-password -data "$data" -password-cost 4 >/dev/null
done

start_node() { # N HTTP_PORT RTMP_PORT
  taskset -c 0 "$bin" serve -rtmp-addr "127.0.0.1:$3" -http-addr "127.0.0.1:$2" -data "$data" \
    -log-level warn -password-cost 4 -auth-rate-limit 100000 -nats-url "nats://127.0.0.1:$nats_port" \
    -cluster-key bench-chat-cluster-key -node-id "node$1" >"$data/node$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$2/readyz" >/dev/null 2>&1 && return; sleep 0.1; done
  keep_logs=1; echo "node $1 did not start" >&2; exit 1
}
start_node 1 "$http1" "$rtmp1"
start_node 2 "$http2" "$rtmp2"
node2=${pids[-1]}

login() {
  curl -sf -H 'Content-Type: application/json' -d "{\"name\":\"$1\",\"password\":\"bench-password\"}" \
    "http://127.0.0.1:$http1/api/v1/auth/login" | sed -E 's/.*"token":"([^"]+)".*/\1/'
}
: >"$data/tokens"
for i in $(seq 1 "$users"); do login "bench$i" >>"$data/tokens"; done
host=$(head -1 "$data/tokens")
room=$(curl -sf -H "Authorization: Bearer $host" -H 'Content-Type: application/json' \
  -d '{"title":"bench chat across nodes"}' "http://127.0.0.1:$http1/api/v1/rooms" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)

# shellcheck disable=SC2086
taskset -c 1 "$bin" bench chat --url "http://127.0.0.1:$http2" --send-url "http://127.0.0.1:$http1" --room "$room" \
  --clients "$clients" --rate "$rate" --duration "$duration" --tokens-file "$data/tokens" \
  --pid "$node2" ${BENCH_FLAGS:-}
