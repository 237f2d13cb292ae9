#!/usr/bin/env bash
# Builds the host images vespid/gateway, vespid/api and vespid/worker (tag $VESPID_IMAGE_TAG, default
# "test") from the tsup builds. The BASE_IMAGE build ARG defaults to the locally imported
# vespid/host-base:test; set BASE_IMAGE=node:20-bookworm-slim where a registry is reachable.
# Usage: scripts/build-host-images.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tag=${VESPID_IMAGE_TAG:-test}
base=${BASE_IMAGE:-}
if [ -z "$base" ]; then
  bash "$root/scripts/build-host-base-image.sh" --if-missing
  base=vespid/host-base:test
fi
cd "$root"
pnpm build:hosts >&2
for host in gateway api worker; do
  docker build -q --build-arg "BASE_IMAGE=$base" -t "vespid/$host:$tag" "examples/$host" >/dev/null
  echo "build-host-images: vespid/$host:$tag (on $base)"
done
