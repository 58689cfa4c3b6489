#!/bin/bash
# bench-floor-ab.sh N ROUNDS [WINDOW]: from the project root, ROUNDS rounds of the floor server, roomcast
# HTTP-FLV and roomcast RTMP play at N viewers (livebench, as ../shared/livebench/vs-floor.sh), the
# floor with WINDOW (default 20ms) and roomcast with -flush-interval WINDOW; prints one JSON line per run
# with CPU per viewer-second, latency, RSS and, from perf stat over 10 s of the window, writes per
# viewer-second and CPU per write. Needs perf, jq, ffmpeg; LB= the livebench directory; OUT= a file.
set -u
N=$1 R=$2 W=${3:-20ms}
lb=$(cd "${LB:-../shared/livebench}" && pwd); out=${OUT:-/dev/stdout}
bin=$(mktemp -d)/roomcast; go build -o "$bin" ./cmd/roomcast || exit 1
(cd "$lb" && go build -o livebench . && go build -o floorsrv ./floor) || exit 1
flags=""; [ "$W" != 20ms ] && flags="-flush-interval $W"
one() { # label pid push proto play
  local label=$1 pid=$2 push=$3 proto=$4 play=$5
  (sleep 16; perf stat -x, -e task-clock,syscalls:sys_enter_writev,syscalls:sys_enter_write -p $pid -o "$bin.stat" -- sleep 10 >/dev/null 2>&1) & local p1=$!
  local j; j=$(cd $lb && LB_CPU=1 ./run.sh --file sample.flv --push $push --proto $proto --play-flv $play -n $N --duration 15s --pid $pid --label $label 2>/dev/null | grep '^{' | tail -1)
  wait $p1
  local tc wv w; tc=$(grep task-clock "$bin.stat" | cut -d, -f1); wv=$(grep sys_enter_writev "$bin.stat" | cut -d, -f1); w=$(grep 'sys_enter_write,' "$bin.stat" | cut -d, -f1)
  echo "$j" | jq -c --arg tc "$tc" --arg wv "$wv" --arg w "$w" --arg n "$N" '{label: .label, cpu: .cpu_ms_per_viewer_s, marg: .cpu_ms_per_viewer_s_marginal, p99: .latency_p99_ms, p50: .latency_p50_ms, ttff99: .ttff_p99_ms, rss: .rss_per_viewer_kb, harn: .harness_cpu_pct, cores: .core_busy_pct, ok: .ok, writes_per_viewer_s: ((($wv|tonumber)+($w|tonumber))/10/($n|tonumber)), us_cpu_per_write: (($tc|tonumber)*1000/(($wv|tonumber)+($w|tonumber)))}' >> $out
}
for i in $(seq $R); do
  echo "== round $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $out
  fpid=$(cd $lb && PIN=0 MODE=loop WINDOW=$W anchors/floor.sh 2>/dev/null)
  sleep 1; one floor $fpid rtmp://127.0.0.1:1935/live/test flv http://127.0.0.1:8080/live/test.flv
  kill $fpid; sleep 2
  d=$(mktemp -d); (cd $d && exec taskset -c 0 $bin serve -open-publish $flags >$d/log 2>&1) & spid=$!
  for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:8080/ && break; sleep 0.1; done
  one roomcast-flv $spid rtmp://127.0.0.1:1935/live/bench flv http://127.0.0.1:8080/live/bench.flv
  one roomcast-rtmp $spid rtmp://127.0.0.1:1935/live/bench rtmp http://127.0.0.1:8080/live/bench.flv
  kill $spid; wait $spid 2>/dev/null; rm -rf $d; sleep 2
done
