#!/usr/bin/env bash
# Debian packages the test suite needs; idempotent, quiet when already installed.
set -euo pipefail
need=()
# chromium + chromium-driver: browser tests; ffmpeg: fake-camera feeds; wrk: `smilepay bench payments`
for pkg in chromium chromium-driver ffmpeg wrk; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# pgvector for the local PostgreSQL (the gallery's pgvector adapter; builds Debian's source package)
"$(dirname "$0")/install-pgvector.sh"
