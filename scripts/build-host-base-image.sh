#!/usr/bin/env bash
# Builds vespid/host-base:test, a Node base image for the host images, where no registry is reachable:
# the host's own node binary plus the libraries it links against and a busybox shell, imported with
# `docker import` (the same rootfs as vespid/sandbox-node:test, see build-sandbox-images.sh).
# With a registry, use the official image instead: --build-arg BASE_IMAGE=node:20-bookworm-slim.
# Usage: scripts/build-host-base-image.sh [--if-missing]
set -euo pipefail
TARGET=vespid/host-base:test
if [ "${1:-}" = "--if-missing" ] && docker image inspect "$TARGET" >/dev/null 2>&1; then exit 0; fi
here=$(cd "$(dirname "$0")" && pwd)
VESPID_NODE_IMAGE=vespid/sandbox-node:test bash "$here/build-sandbox-images.sh" --if-missing >&2
docker tag vespid/sandbox-node:test "$TARGET"
echo "build-host-base-image: $TARGET ($(docker run --rm "$TARGET" node --version))"
