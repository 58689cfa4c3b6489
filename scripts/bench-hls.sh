#!/usr/bin/env bash
# HLS serving cost: roomcast against nginx serving the same segments as
# static files, measured in one run. One 1.5 Mbit/s 720p25 H.264+AAC stream
# is published to roomcast; a mirror copies roomcast's live playlist and
# segments (byte for byte, same URL layout) into a directory that nginx
# serves. For each viewer count, `roomcast bench play` (a classic HLS
# client: playlist every half target duration, every new segment) loads
# roomcast, then nginx, and reads each server's CPU from /proc.
#
#   scripts/bench-hls.sh [VIEWERS...]        default: 100 1000
#   RUNS=3 DURATION=20s RAMP=10s scripts/bench-hls.sh 100 1000
#
# Each run first measures roomcast's CPU with the stream published and no
# viewer (IDLE seconds, default 10) and prints, besides the raw ratio, the
# ratio with that taken off ("serving only"): nginx serves files someone
# else made.
#
# Each run also measures LL_VIEWERS (default 100; 0: none) Low-Latency HLS
# viewers of roomcast (bench play --ll: blocking playlist reloads and every
# partial segment); nginx serves no LL-HLS, so this one has no pair.
#
# The servers (roomcast, nginx with one worker) and the publisher share
# CPU 0; the load generator and the mirror run on CPU 1. Loopback only;
# everything it starts is stopped when it exits. Prints one line per
# measurement and, at the end, the medians over the runs.
set -euo pipefail
cd "$(dirname "$0")/.."
viewers=("$@")
[ ${#viewers[@]} -gt 0 ] || viewers=(100 1000)
runs=${RUNS:-3}
duration=${DURATION:-20s}
ramp=${RAMP:-10s}
rtmp_port=${RTMP_PORT:-19351}
http_port=${HTTP_PORT:-18081}
nginx_port=${NGINX_PORT:-18082}
src=${SRC:-/tmp/roomcast-bench-src.flv}
extra=${SERVE_FLAGS:-}
prio=${NICE:-0}
ll_viewers=${LL_VIEWERS:-100}

for tool in ffmpeg curl taskset; do
  command -v "$tool" >/dev/null || { echo "bench-hls: $tool is required" >&2; exit 1; }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || { echo "bench-hls: nginx is required (Debian: apt-get install nginx-light)" >&2; exit 1; }
[ -x bin/roomcast ] || make build >/dev/null
if [ ! -s "$src" ]; then
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=25 \
    -f lavfi -i sine=frequency=440:sample_rate=44100 -t 60 \
    -c:v libx264 -preset veryfast -b:v 1400k -maxrate 1400k -bufsize 1400k -g 50 -pix_fmt yuv420p \
    -c:a aac -b:a 96k -f flv "$src"
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "bench-hls: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
mkdir -p "$work/data" "$work/www/live" "$work/nginx"
chmod 755 "$work" "$work/www" "$work/www/live" # the nginx worker runs as www-data
umask 022

# shellcheck disable=SC2086
nice -n "$prio" taskset -c 0 bin/roomcast serve -rtmp-addr 127.0.0.1:$rtmp_port -http-addr 127.0.0.1:$http_port \
  -data "$work/data" -log-level warn -open-publish $extra >"$work/server.log" 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$http_port/" && break; sleep 0.1; done
taskset -c 0 nice -n $((prio - 5)) ffmpeg -hide_banner -loglevel error -re -stream_loop -1 -i "$src" -c copy \
  -f flv "rtmp://127.0.0.1:$rtmp_port/live/bench" >"$work/ffmpeg.log" 2>&1 &
pids+=("$!")

# The mirror: roomcast's playlist and segments into $work/www, the same
# paths; files are written aside and renamed, as a packager does.
mirror() {
  local base="http://127.0.0.1:$http_port/live" have=" "
  while :; do
    if curl -sf -o "$work/pl.tmp" "$base/bench.m3u8"; then
      local uri
      while read -r uri; do
        case $uri in ''|'#'*) continue ;; esac
        case $have in *" $uri "*) continue ;; esac
        mkdir -p "$work/www/live/${uri%/*}"
        curl -sf -o "$work/www/live/$uri.tmp" "$base/$uri" && mv "$work/www/live/$uri.tmp" "$work/www/live/$uri" && have="$have$uri "
      done < "$work/pl.tmp"
      mv "$work/pl.tmp" "$work/www/live/bench.m3u8"
      # Forget what left the playlist long ago (the server keeps as many again).
      set -- $have
      [ $# -gt 40 ] && { shift $(($# - 40)); have=" $* "; }
    fi
    sleep 0.2
  done
}
taskset -c 1 bash -c "$(declare -f mirror); work=$work http_port=$http_port mirror" >"$work/mirror.log" 2>&1 &
pids+=("$!")

cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 8192; }
http {
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
    location ~ \.m3u8\$ { add_header Cache-Control no-cache; }
  }
}
EOF
taskset -c 0 nice -n "$prio" "$nginx_bin" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
nginx_master=$!
pids+=("$nginx_master")
ulimit -n 65536 2>/dev/null || true

# Wait for both servers to serve a playlist with segments.
for url in "http://127.0.0.1:$http_port/live/bench.m3u8" "http://127.0.0.1:$nginx_port/live/bench.m3u8"; do
  for i in $(seq 150); do
    [ "$(curl -sf "$url" | grep -c '\.ts$' || true)" -ge 3 ] && break
    [ "$i" = 150 ] && { echo "bench-hls: $url has no segments after 30 s" >&2; cat "$work"/*.log "$work/nginx/error.log" >&2; exit 1; }
    sleep 0.2
  done
done
worker=$(pgrep -P "$nginx_master" | head -1 || true)
[ -n "$worker" ] || { echo "bench-hls: no nginx worker" >&2; exit 1; }

measure() { # NAME PID URL VIEWERS [BENCH FLAGS...] → one result line
  local out
  out=$(nice -n "$prio" taskset -c 1 bin/roomcast bench play --url "$3" --viewers "$4" --duration "$duration" --ramp "$ramp" --pid "$2" --json "${@:5}")
  printf '%s\n' "$out" >"$work/$1-$4.json"
  python3 - "$1" "$4" "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[3])
p = r.get("process") or {}
print(f"{sys.argv[1]:8} viewers={sys.argv[2]:5} connected={r['connected']:5} behind={r['behind']:4} "
      f"mbit_s={r['mbit_s']:8.1f} cpu_ms_per_viewer_s={p.get('cpu_ms_per_viewer_s', float('nan')):.4f} "
      f"rss_kb_per_viewer={p.get('rss_kb_per_viewer', float('nan')):.1f}")
PY
}

# roomcast's CPU with the stream published and no viewer (ingest, muxing,
# the hub), in ms per second over IDLE seconds: what it spends whoever
# watches, which nginx (serving files someone else made) does not.
idle_cpu() {
  local ticks hz a b
  hz=$(getconf CLK_TCK)
  a=$(awk '{print $14 + $15}' "/proc/$server/stat")
  sleep "${IDLE:-10}"
  b=$(awk '{print $14 + $15}' "/proc/$server/stat")
  python3 -c "print(f'{($b - $a) * 1000 / $hz / ${IDLE:-10}:.1f}')"
}

results=$work/results
for run in $(seq "$runs"); do
  echo "run=$run idle     roomcast_ms_per_s=$(idle_cpu)" | tee -a "$results"
  for n in "${viewers[@]}"; do
    measure roomcast "$server" "http://127.0.0.1:$http_port/live/bench.m3u8" "$n" | sed "s/^/run=$run /" | tee -a "$results"
    measure nginx "$worker" "http://127.0.0.1:$nginx_port/live/bench.m3u8" "$n" | sed "s/^/run=$run /" | tee -a "$results"
  done
  if [ "$ll_viewers" -gt 0 ]; then
    measure ll-hls "$server" "http://127.0.0.1:$http_port/live/bench.m3u8" "$ll_viewers" --ll | sed "s/^/run=$run /" | tee -a "$results"
  fi
done

echo
echo "medians over $runs runs (CPU ms per viewer-second; ratio roomcast / nginx per run, then its median):"
python3 - "$results" <<'PY'
import re, statistics, sys
rows = [dict(kv.split("=") for kv in re.findall(r"\S+=\S+", l)) | {"server": l.split()[1]} for l in open(sys.argv[1])]
idle = {r["run"]: float(r["roomcast_ms_per_s"]) for r in rows if r["server"] == "idle"}
rows = [r for r in rows if r["server"] != "idle"]
ll = [float(r["cpu_ms_per_viewer_s"]) for r in rows if r["server"] == "ll-hls"]
rows = [r for r in rows if r["server"] != "ll-hls"]
for n in sorted({r["viewers"] for r in rows}, key=int):
    cpu = {s: [float(r["cpu_ms_per_viewer_s"]) for r in rows if r["viewers"] == n and r["server"] == s] for s in ("roomcast", "nginx")}
    runs = sorted({r["run"] for r in rows})
    ratios = []
    for run in runs:
        a = [float(r["cpu_ms_per_viewer_s"]) for r in rows if r["viewers"] == n and r["run"] == run and r["server"] == "roomcast"]
        b = [float(r["cpu_ms_per_viewer_s"]) for r in rows if r["viewers"] == n and r["run"] == run and r["server"] == "nginx"]
        if a and b and b[0] > 0:
            ratios.append(a[0] / b[0])
    print(f"{n:>5} viewers: roomcast {statistics.median(cpu['roomcast']):.4f}  nginx {statistics.median(cpu['nginx']):.4f}  "
          f"ratio per run {', '.join(f'{x:.2f}' for x in ratios)}  median {statistics.median(ratios):.2f}")
    # Serving alone: roomcast's CPU less what it spent with no viewer in the same run.
    served = []
    for run in runs:
        a = [float(r["cpu_ms_per_viewer_s"]) for r in rows if r["viewers"] == n and r["run"] == run and r["server"] == "roomcast"]
        b = [float(r["cpu_ms_per_viewer_s"]) for r in rows if r["viewers"] == n and r["run"] == run and r["server"] == "nginx"]
        if a and b and b[0] > 0 and run in idle:
            served.append((a[0] - idle[run] / int(n)) / b[0])
    if served:
        print(f"{'':>5}   serving only (less the no-viewer CPU {', '.join(f'{idle[r]:.1f}' for r in runs if r in idle)} ms/s): "
              f"ratio per run {', '.join(f'{x:.2f}' for x in served)}  median {statistics.median(served):.2f}")
if ll:
    print(f"LL-HLS (roomcast, bench play --ll): {statistics.median(ll):.4f}  (runs: {', '.join(f'{x:.4f}' for x in ll)})")
PY
