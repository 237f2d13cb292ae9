#!/usr/bin/env bash
# Builds the local sandbox images with `docker import` (no registry is reachable on our machines):
#   vespid/sandbox-busybox:test  — a static busybox shell (tiny; used by most sandbox tests)
#   vespid/sandbox-node:test     — the host's node binary plus the libraries ldd lists, and busybox
# Usage: scripts/build-sandbox-images.sh [--if-missing]
set -euo pipefail

BUSYBOX_IMAGE=${VESPID_BUSYBOX_IMAGE:-vespid/sandbox-busybox:test}
NODE_IMAGE=${VESPID_NODE_IMAGE:-vespid/sandbox-node:test}
if_missing=0
[ "${1:-}" = "--if-missing" ] && if_missing=1

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

busybox_bin=$(command -v busybox || true)
if [ -z "$busybox_bin" ] || ! file -L "$busybox_bin" 2>/dev/null | grep -q 'statically linked'; then
  if [ -x /bin/busybox ] && (ldd /bin/busybox 2>&1 | grep -q 'not a dynamic'); then
    busybox_bin=/bin/busybox
  else
    echo "build-sandbox-images: installing Debian's busybox-static" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y busybox-static >/dev/null
    busybox_bin=/bin/busybox
  fi
fi

base_rootfs() { # $1 = dir: a minimal FHS tree with busybox applets and an unprivileged user
  local dir=$1
  mkdir -p "$dir"/{bin,etc,tmp,work,proc,sys,dev,usr/bin,usr/local/bin}
  cp "$busybox_bin" "$dir/bin/busybox"
  for applet in $("$dir/bin/busybox" --list); do
    [ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  chmod 1777 "$dir/tmp"
}

build_busybox() {
  local dir; dir=$(mktemp -d)
  base_rootfs "$dir"
  tar -C "$dir" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' - "$BUSYBOX_IMAGE" >/dev/null
  rm -rf "$dir"
  echo "build-sandbox-images: built $BUSYBOX_IMAGE"
}

build_node() {
  local dir node lib; dir=$(mktemp -d)
  base_rootfs "$dir"
  node=$(readlink -f "$(command -v node)")
  cp "$node" "$dir/usr/local/bin/node"
  # Copy every shared library node links against, keeping their paths (and the loader).
  for lib in $(ldd "$node" | grep -oE '/[^ ]+'); do
    mkdir -p "$dir$(dirname "$lib")"
    cp -L "$lib" "$dir$lib"
  done
  tar -C "$dir" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' - "$NODE_IMAGE" >/dev/null
  rm -rf "$dir"
  echo "build-sandbox-images: built $NODE_IMAGE"
}

if [ $if_missing -eq 1 ] && have_image "$BUSYBOX_IMAGE"; then :; else build_busybox; fi
if [ $if_missing -eq 1 ] && have_image "$NODE_IMAGE"; then :; else build_node; fi
