#!/usr/bin/env bash
# Web app tests: unit tests of the client logic (vitest), then the browser
# tests (headless Chromium from Debian driven by playwright-core) against
# bin/roomcast, which `make test-web` builds first with the app embedded.
# Screenshots go to test-results/web/.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in node npm ffmpeg; do
  command -v "$tool" >/dev/null || { echo "test-web: $tool is required (scripts/install-test-deps.sh installs it)" >&2; exit 1; }
done
test -x "${CHROMIUM:-/usr/bin/chromium}" || { echo "test-web: ${CHROMIUM:-/usr/bin/chromium} is required (scripts/install-test-deps.sh installs it)" >&2; exit 1; }
test -x bin/roomcast || { echo "test-web: bin/roomcast is missing: run make build" >&2; exit 1; }
test -d web/node_modules || { echo "test-web: web/node_modules is missing: run make web" >&2; exit 1; }
# The help is read whole first: grep -q on a pipe would quit at the match and
# the binary, still writing, would die of SIGPIPE (a failed pipeline here).
serve_help=$(bin/roomcast serve -h 2>&1 || true)
grep -q -- -password-cost <<<"$serve_help" || { echo "test-web: bin/roomcast is too old: run make build" >&2; exit 1; }

cd web
echo "== web unit tests" >&2
npx --no-install vitest run
echo "== web browser tests (Chromium)" >&2
rm -rf ../test-results/web
timeout 1200 node --test --test-concurrency=1 --test-reporter=spec e2e/browser.test.mjs e2e/covers.test.mjs e2e/llhls.test.mjs e2e/cohost.test.mjs e2e/webrtc.test.mjs
echo "test-web: screenshots in test-results/web/" >&2
