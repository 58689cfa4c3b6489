#!/usr/bin/env bash
# Glass-to-glass latency over WebRTC on this machine, loopback only: headless
# Chromium publishes a canvas showing its clock over WHIP to a roomcast it
# starts, plays it back over WHEP and reads the clock back from each frame
# (web/e2e/glass.mjs). RUNS runs of SAMPLES frames each, one JSON line a run.
#
#   scripts/bench-glass.sh [SAMPLES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
samples=${1:-200}
runs=${2:-3}
[ -x bin/roomcast ] || make build >/dev/null
[ -d web/node_modules ] || (cd web && npm ci --silent)
for _ in $(seq 1 "$runs"); do
  (cd web && node e2e/glass.mjs "$samples")
done
