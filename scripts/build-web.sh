#!/usr/bin/env bash
# Builds the web app (web/) into internal/web/dist, which go:embed puts in
# the binary. Installs the npm packages first when node_modules is missing
# or older than package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v npm >/dev/null || { echo "build-web: npm is required (Node 20+): apt-get install nodejs npm" >&2; exit 1; }
cd web
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "build-web: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
npx --no-install tsc --noEmit
dist=../internal/web/dist
mkdir -p "$dist"
# The placeholder keeps go:embed compiling before a build (see internal/web);
# bring it back if something (make clean) removed it.
[ -f "$dist/.gitkeep" ] || git -C .. checkout -- internal/web/dist/.gitkeep 2>/dev/null || printf 'This directory receives the built web app (scripts/build-web.sh, make web).\nIt is kept in git so that go:embed compiles before the first web build.\n' > "$dist/.gitkeep"
# Old hashed assets go; the committed placeholder stays.
find "$dist" -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
npx --no-install vite build --logLevel warn
test -f "$dist/index.html" || { echo "build-web: vite produced no index.html" >&2; exit 1; }
echo "build-web: built internal/web/dist ($(du -sh "$dist" | cut -f1))" >&2
