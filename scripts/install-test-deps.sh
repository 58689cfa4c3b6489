#!/usr/bin/env bash
# Installs the tools the tests need when they are missing (ffmpeg/ffprobe,
# Debian's Chromium, Debian's postgresql for the throwaway servers that
# internal/pgtest starts), then fails loudly if any is still missing. Tests never
# skip for a missing tool. npm packages are installed by build-web.sh,
# test-web.sh and test-miniprogram.sh in their own folders.
set -euo pipefail

need_pkgs=()
command -v ffmpeg >/dev/null 2>&1 || need_pkgs+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need_pkgs+=(ffmpeg)
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
# pgtest runs initdb and postgres from /usr/lib/postgresql/N/bin (or
# $ROOMCAST_PG_BIN); the Debian package also creates the postgres user the
# server runs as when the tests run as root.
pg_bin() {
  if [ -n "${ROOMCAST_PG_BIN:-}" ] && [ -x "$ROOMCAST_PG_BIN/initdb" ]; then echo "$ROOMCAST_PG_BIN"; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | while read -r d; do
    [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && echo "$d"
  done | tail -n 1
}
[ -n "$(pg_bin)" ] || need_pkgs+=(postgresql)

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing test tools: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  fi
fi

missing=0
for tool in ffmpeg ffprobe /usr/bin/chromium node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "MISSING TEST TOOL: $tool — install it (Debian: apt-get install ffmpeg chromium nodejs npm) and rerun" >&2
    missing=1
  fi
done
if [ -z "$(pg_bin)" ]; then
  echo "MISSING TEST TOOL: Postgres (initdb, postgres in /usr/lib/postgresql/N/bin) — install it (Debian: apt-get install postgresql) or set ROOMCAST_PG_BIN, and rerun" >&2
  missing=1
elif [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  echo "MISSING TEST TOOL: the postgres system user (tests run as root start Postgres as it) — install Debian's postgresql package and rerun" >&2
  missing=1
fi
exit $missing
