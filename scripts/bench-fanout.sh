#!/usr/bin/env bash
# Fan-out load test on this machine: one 1.5 Mbit/s 720p25 H.264+AAC stream,
# the server pinned to CPU 0, the load generator to CPU 1, loopback only.
#
#   scripts/bench-fanout.sh [PROTO] [VIEWERS] [DURATION] [RAMP]
#   PROTO: flv (default), ws-flv, rtmp, hls, whep (WebRTC: the AAC is
#   transcoded to Opus while WHEP viewers watch; VIDEO_ONLY=1 publishes no
#   audio, to measure WHEP without the transcoder)
#
# Everything it starts is stopped when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
proto=${1:-flv}
viewers=${2:-3000}
duration=${3:-30s}
ramp=${4:-30s}
rtmp_port=${RTMP_PORT:-19350}
http_port=${HTTP_PORT:-18080}
udp_port=${UDP_PORT:-18189}
video_only=${VIDEO_ONLY:-0}
src=${SRC:-/tmp/roomcast-bench-src.flv}
[ "$video_only" = 1 ] && src=${SRC:-/tmp/roomcast-bench-src-video.flv}
extra=${SERVE_FLAGS:-}
# NICE (e.g. -10) runs the server and the load generator at a higher
# priority, so that other jobs on a shared machine disturb the figures less.
prio=${NICE:-0}

[ -x bin/roomcast ] || make build >/dev/null
if [ ! -s "$src" ]; then
  audio=(-f lavfi -i sine=frequency=440:sample_rate=44100)
  acodec=(-c:a aac -b:a 96k)
  if [ "$video_only" = 1 ]; then audio=(); acodec=(-an); fi
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=25 \
    "${audio[@]}" -t 60 \
    -c:v libx264 -preset veryfast -b:v 1400k -maxrate 1400k -bufsize 1400k -g 50 -pix_fmt yuv420p \
    "${acodec[@]}" -f flv "$src"
fi

data=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

# shellcheck disable=SC2086
nice -n "$prio" taskset -c 0 bin/roomcast serve -rtmp-addr 127.0.0.1:$rtmp_port -http-addr 127.0.0.1:$http_port \
  -webrtc-udp-addr 127.0.0.1:$udp_port -webrtc-tcp-addr '' \
  -data "$data" -log-level warn -open-publish $extra >"$data/server.log" 2>&1 &
server=$!
pids+=("$server")
sleep 1
# The publisher shares CPU 0 with the server (it costs ~1 % there) at a higher
# priority, so that its pacing does not suffer from the load generator.
taskset -c 0 nice -n $((prio - 5)) ffmpeg -hide_banner -loglevel error -re -stream_loop -1 -i "$src" -c copy \
  -f flv "rtmp://127.0.0.1:$rtmp_port/live/bench" >"$data/ffmpeg.log" 2>&1 &
pids+=("$!")
sleep 4

case $proto in
  flv) url="http://127.0.0.1:$http_port/live/bench.flv" ;;
  ws-flv) url="ws://127.0.0.1:$http_port/live/bench.flv" ;;
  rtmp) url="rtmp://127.0.0.1:$rtmp_port/live/bench" ;;
  hls) url="http://127.0.0.1:$http_port/live/bench.m3u8" ;;
  whep) url="http://127.0.0.1:$http_port/live/bench/whep" ;;
  *) echo "unknown protocol $proto" >&2; exit 2 ;;
esac
# WHEP's audio costs an ffmpeg (AAC→Opus) beside the server: count it.
children=""
[ "$proto" = whep ] && children=--children
bin/roomcast user add benchadmin --admin --password bench-password -data "$data" >/dev/null
token=$(curl -sf -H 'Content-Type: application/json' -d '{"name":"benchadmin","password":"bench-password"}' \
  "http://127.0.0.1:$http_port/api/v1/auth/login" | sed -E 's/.*"token":"([^"]+)".*/\1/')

nice -n "$prio" taskset -c 1 bin/roomcast bench play --url "$url" --viewers "$viewers" --duration "$duration" \
  --ramp "$ramp" --pid "$server" $children ${BENCH_FLAGS:-}

# The server's own view: latency from a frame's arrival to the end of its
# write to each viewer (live frames only), over the whole run.
echo
echo "server-side delivery latency (GET /api/v1/streams/bench → delivery_latency):"
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$http_port/api/v1/streams/bench" |
  sed -E 's/.*"delivery_latency":\{"frames":([0-9]+),"mean_ms":([0-9.]+),"p50_ms":([0-9.]+),"p99_ms":([0-9.]+).*/  frames \1, mean \2 ms, p50 ≤ \3 ms, p99 ≤ \4 ms/'
