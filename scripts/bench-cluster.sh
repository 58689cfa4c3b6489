#!/usr/bin/env bash
# Cluster benchmark on this machine: a NATS server with JetStream and three
# roomcast nodes on loopback; one 1.5 Mbit/s 720p25 H.264+AAC stream
# published to node 1, viewers spread over nodes 2 and 3 (each relays the
# stream once from node 1). It reports:
#   1. node 1's CPU for the two relays, next to its CPU for two direct
#      viewers ("two viewers' worth");
#   2. the first frame on a cold node (whose first viewer starts the relay):
#      p50 and p99 over COLD_SAMPLES streams;
#   3. the edge viewers' latency (bench play's, against their own fastest
#      frame) next to the same viewers on the origin.
# The relay-added latency per frame and the resume time after a publisher
# moves are measured by the end-to-end tests:
#   go test ./test/e2e -run TestCluster -v
#
#   scripts/bench-cluster.sh [VIEWERS_PER_EDGE] [DURATION]
#
# Everything it starts is stopped when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
viewers=${1:-200}
duration=${2:-20s}
cold=${COLD_SAMPLES:-10}
base=${BASE_PORT:-19400}
src=${SRC:-/tmp/roomcast-bench-src.flv}
key=bench-cluster-key-0123456789

[ -x bin/roomcast ] || make build >/dev/null
[ -x bin/nats-server ] || go build -o bin/nats-server github.com/nats-io/nats-server/v2
if [ ! -s "$src" ]; then
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=25 \
    -f lavfi -i sine=frequency=440:sample_rate=44100 -t 60 \
    -c:v libx264 -preset veryfast -b:v 1400k -maxrate 1400k -bufsize 1400k -g 50 -pix_fmt yuv420p \
    -c:a aac -b:a 96k -f flv "$src"
fi

data=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

nats_port=$base
bin/nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$data/nats" >"$data/nats.log" 2>&1 &
pids+=("$!")
sleep 1
node_pid=()
for i in 1 2 3; do
  rtmp=$((base + 10 + i)) http=$((base + 20 + i))
  mkdir -p "$data/node$i"
  bin/roomcast serve -rtmp-addr 127.0.0.1:$rtmp -http-addr 127.0.0.1:$http -data "$data/node$i" \
    -log-level warn -open-publish -nats-url "nats://127.0.0.1:$nats_port" -cluster-key "$key" \
    -node-id "node$i" -relay-linger 1s -record-dir "$data/recordings" \
    -push-key bench-push-key -play-key bench-play-key >"$data/node$i.log" 2>&1 &
  pids+=("$!")
  node_pid[$i]=$!
done
rtmp1=$((base + 11))
flv() { echo "http://127.0.0.1:$((base + 20 + $1))/live/$2.flv"; }
sleep 2

ffmpeg -hide_banner -loglevel error -re -stream_loop -1 -i "$src" -c copy \
  -f flv "rtmp://127.0.0.1:$rtmp1/live/bench" >"$data/ffmpeg.log" 2>&1 &
pids+=("$!")
for i in $(seq 1 "$cold"); do
  ffmpeg -hide_banner -loglevel error -re -stream_loop -1 -i "$src" -c copy \
    -f flv "rtmp://127.0.0.1:$rtmp1/live/cold$i" >>"$data/ffmpeg.log" 2>&1 &
  pids+=("$!")
done
sleep 4

play() { bin/roomcast bench play --url "$1" --viewers "$2" --duration "$3" --json "${@:4}"; }
cpu() { jq -r '.process.cpu_s'; }

echo "== 1. node 1's CPU over $duration (shared machine: compare the rows, not the absolute figures)"
direct=$(play "$(flv 1 bench)" 2 "$duration" --pid "${node_pid[1]}" | cpu)
echo "   two viewers on node 1 directly:           ${direct} s"
play "$(flv 3 bench)" "$viewers" "$duration" >"$data/edge3.json" &
relays=$(play "$(flv 2 bench)" "$viewers" "$duration" --pid "${node_pid[1]}" | cpu)
wait $!
echo "   $viewers viewers on node 2 and $viewers on node 3: ${relays} s (two relays from node 1)"

echo "== 2. first frame on a cold node ($((cold * 2)) samples: cold1..cold$cold on nodes 2 and 3)"
ttff=()
for i in $(seq 1 "$cold"); do
  for n in 2 3; do
    ttff+=("$(play "$(flv "$n" "cold$i")" 1 1s | jq -r '.ttff_ms.p50')")
  done
done
printf '%s\n' "${ttff[@]}" | sort -g | awk '{v[NR]=$1} END {
  p50=v[int((NR+1)/2)]; p99=v[NR>=100 ? int(NR*0.99+0.5) : NR];
  printf "   p50 %.1f ms, p99 %.1f ms (max of %d below 100 samples), max %.1f ms\n", p50, p99, NR, v[NR] }'

echo "== 3. viewer latency (each run against its own fastest frame), $viewers viewers, $duration"
play "$(flv 1 bench)" "$viewers" "$duration" >"$data/origin.json" &
play "$(flv 2 bench)" "$viewers" "$duration" >"$data/edge.json"
wait $!
for f in origin edge; do
  jq -r --arg f "$f" '"   \($f): latency p50 \(.latency_ms.p50) ms, p99 \(.latency_ms.p99) ms; first frame p50 \(.ttff_ms.p50) ms, p99 \(.ttff_ms.p99) ms; \(.connected) connected, \(.behind) behind"' "$data/$f.json"
done
