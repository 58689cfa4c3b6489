#!/usr/bin/env bash
# Installs the tools the tests need when they are missing (ffmpeg/ffprobe,
# Debian's Chromium), then fails loudly if any is still missing. Tests never
# skip for a missing tool. npm packages are installed by build-web.sh,
# test-web.sh and test-miniprogram.sh in their own folders.
set -euo pipefail

need_pkgs=()
command -v ffmpeg >/dev/null 2>&1 || need_pkgs+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need_pkgs+=(ffmpeg)
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)

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
exit $missing
