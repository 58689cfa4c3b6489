#!/usr/bin/env bash
# Mini program tests: the modules against a real roomcast server (bin/roomcast,
# built by `make build`) and the pages under miniprogram-simulate.
# Installs the test packages with `npm ci` when package-lock.json changed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$root/bin/roomcast
if [ ! -x "$bin" ]; then
  echo "test-miniprogram: $bin is missing; run 'make build' first" >&2
  exit 1
fi
for tool in node npm ffmpeg; do
  command -v "$tool" >/dev/null 2>&1 || { echo "test-miniprogram: $tool is missing (scripts/install-test-deps.sh)" >&2; exit 1; }
done
cd miniprogram
stamp=node_modules/.roomcast-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi
export ROOMCAST_BIN=$bin
exec node --test test/*.test.js
