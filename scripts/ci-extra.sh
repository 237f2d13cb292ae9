#!/usr/bin/env bash
# Extra CI setup, run by .ci/run after the services are up and before typecheck.
# Installs Debian's Chromium for the /agents browser test (examples/api/src/web/agents-page.int.test.ts,
# driven by playwright-core with executablePath /usr/bin/chromium; no browser is ever downloaded).
# Idempotent and quiet: does nothing when Chromium is already installed.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# Try the current package lists first; refresh them only if that fails (stale lists on a fresh image).
if ! $SUDO apt-get install -y -q chromium >/tmp/ci-extra-chromium.log 2>&1; then
  $SUDO apt-get update -q >>/tmp/ci-extra-chromium.log 2>&1
  if ! $SUDO apt-get install -y -q chromium >>/tmp/ci-extra-chromium.log 2>&1; then
    tail -n 30 /tmp/ci-extra-chromium.log >&2
    echo "ci-extra: apt-get install -y chromium failed" >&2
    exit 1
  fi
fi
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo installed)"
