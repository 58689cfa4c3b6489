#!/usr/bin/env bash
# Chat load test on this machine: one room, CLIENTS WebSocket clients, RATE
# messages per second in total; the server pinned to CPU 0, the load
# generator to CPU 1, loopback only.
#
#   scripts/bench-chat.sh [CLIENTS] [RATE] [DURATION]
#
# Senders need distinct users (the server allows 5 messages per 10 s per
# user), so it creates ceil(RATE × 10 / 5) + 1 users; the other clients take
# their tokens (5 connections each) or join as guests spread over 127.x.y.z
# source addresses. Everything it starts is stopped when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-10000}
rate=${2:-20}
duration=${3:-20s}
rtmp_port=${RTMP_PORT:-19351}
http_port=${HTTP_PORT:-18081}
bin=${BIN:-bin/roomcast}
extra=${SERVE_FLAGS:-}

[ -x "$bin" ] || make build >/dev/null
data=$(mktemp -d)
pids=()
cleanup() {
  if [ -n "${server:-}" ] && ! kill -0 "$server" 2>/dev/null; then
    echo "the server exited during the run; its log:" >&2
    tail -40 "$data/server.log" >&2
  fi
  kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

users=$(( (${rate%.*} * 10 + 4) / 5 + 1 ))
for i in $(seq 1 "$users"); do
  "$bin" user add "bench$i" --password bench-password -data "$data" -password-cost 4 >/dev/null
done

# shellcheck disable=SC2086
taskset -c 0 "$bin" serve -rtmp-addr 127.0.0.1:$rtmp_port -http-addr 127.0.0.1:$http_port \
  -data "$data" -log-level warn -password-cost 4 -auth-rate-limit 100000 $extra >"$data/server.log" 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$http_port/api/v1/rooms" >/dev/null 2>&1 && break; sleep 0.1; done

login() {
  curl -sf -H 'Content-Type: application/json' -d "{\"name\":\"$1\",\"password\":\"bench-password\"}" \
    "http://127.0.0.1:$http_port/api/v1/auth/login" | sed -E 's/.*"token":"([^"]+)".*/\1/'
}
: >"$data/tokens"
for i in $(seq 1 "$users"); do login "bench$i" >>"$data/tokens"; done
host=$(head -1 "$data/tokens")
room=$(curl -sf -H "Authorization: Bearer $host" -H 'Content-Type: application/json' \
  -d '{"title":"bench chat"}' "http://127.0.0.1:$http_port/api/v1/rooms" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)

# shellcheck disable=SC2086
taskset -c 1 "$bin" bench chat --url "http://127.0.0.1:$http_port" --room "$room" \
  --clients "$clients" --rate "$rate" --duration "$duration" --tokens-file "$data/tokens" \
  --pid "$server" ${BENCH_FLAGS:-}
