#!/usr/bin/env bash
# Packaging check (`pnpm pack:check`, run in CI): packs every library in packages/* exactly as it would
# be published (`pnpm pack` turns workspace: ranges into real versions), installs the tarballs with npm
# into a scratch project OUTSIDE the workspace (third-party dependencies come from the npm registry),
# and runs a gateway + agent + dispatch round trip there as ESM and as CommonJS, then the `/testing`
# conformance suites with the user's own vitest, then the integrator guide's quickstart (Fastify).
# Then a dispatch-client-only worker (no ioredis/bullmq/pg), and the node-agent product (examples/node-agent, packed too): `npx` and `npm i -g` of the tarballs in
# empty directories, pairing + a connector.action + status + remove, and the install size.
# Set PACK_CHECK_SKIP_BUILD=1 when `pnpm build` just ran; PACK_CHECK_KEEP=1 keeps the scratch dir.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if [ "${PACK_CHECK_SKIP_BUILD:-}" != "1" ]; then pnpm build >/dev/null; fi
# `pnpm build` builds the libraries (packages/*) only; the node-agent product is built here, always, so
# its tarball carries dist/cli.js (without it npm links no `vespid-agent` bin).
pnpm --filter @vespid/node-agent build >/dev/null

scratch="$(mktemp -d "${TMPDIR:-/tmp}/vespid-pack-check.XXXXXX")"
cleanup() { if [ "${PACK_CHECK_KEEP:-}" = "1" ]; then echo "kept $scratch"; else rm -rf "$scratch"; fi; }
trap cleanup EXIT
mkdir -p "$scratch/tarballs" "$scratch/app"

tarballs=()
for dir in packages/*/; do
  [ -f "$dir/package.json" ] || continue
  name="$(node -p "require('./${dir}package.json').name")"
  if [ ! -d "$dir/dist" ]; then echo "pack-check: $name has no dist/ (run pnpm build)" >&2; exit 1; fi
  tgz="$(cd "$dir" && pnpm pack --pack-destination "$scratch/tarballs" 2>/dev/null | grep -E '\.tgz$' | tail -1)"
  [ -f "$tgz" ] || tgz="$scratch/tarballs/$(basename "$tgz")"
  if grep -q '"workspace:' < <(tar -xOzf "$tgz" package/package.json); then
    echo "pack-check: $name's packed package.json still has workspace: ranges" >&2; exit 1
  fi
  tarballs+=("$tgz")
  echo "packed $name -> $(basename "$tgz")"
done

cd "$scratch/app"
printf '{ "name": "vespid-pack-check", "private": true, "version": "0.0.0" }\n' > package.json
# All tarballs in one install, so @vespid/* dependencies between them resolve to the local tarballs.
npm install --no-audit --no-fund --loglevel=error "${tarballs[@]}" >/dev/null
cp "$root/scripts/pack-check/round-trip.mjs" "$root/scripts/pack-check/round-trip.cjs" .

# The scratch project must not see the workspace: resolve from its own node_modules only.
for f in round-trip.mjs round-trip.cjs; do
  NODE_PATH='' timeout 60 node "$f"
done

# The plugin author's path: the `/testing` subpaths need the user's own vitest (they import it).
npm install --no-audit --no-fund --loglevel=error vitest@4 >/dev/null
cp "$root/scripts/pack-check/conformance.test.mjs" .
timeout 120 npx vitest run conformance.test.mjs --reporter=dot

# The newcomer's path: the integrator guide's quickstart files, taken from the guide itself (the
# quickstart and every file it imports, as shown there), in "their own" Fastify app.
npm install --no-audit --no-fund --loglevel=error fastify@5 tsx@4 >/dev/null
node "$root/scripts/pack-check/guide-files.mjs" "$root"
cp "$root/scripts/pack-check/quickstart.mjs" .
timeout 60 npx tsx quickstart.mjs
# The node-agent: its own tarball plus the libraries it depends on (protocol, sdk-agent).
agent_tgz="$(cd "$root/examples/node-agent" && pnpm pack --pack-destination "$scratch/tarballs" 2>/dev/null | grep -E '\.tgz$' | tail -1)"
[ -f "$agent_tgz" ] || agent_tgz="$scratch/tarballs/$(basename "$agent_tgz")"
# (the listing is read whole: `grep -q` would close the pipe early and pipefail would fail the tar)
if ! tar -tzf "$agent_tgz" | grep -x 'package/dist/cli.js' >/dev/null; then
  echo "pack-check: @vespid/node-agent's tarball has no dist/cli.js (pnpm --filter @vespid/node-agent build)" >&2; exit 1
fi
if grep -q '"workspace:' < <(tar -xOzf "$agent_tgz" package/package.json); then
  echo "pack-check: @vespid/node-agent's packed package.json still has workspace: ranges" >&2; exit 1
fi
agent_deps=("$agent_tgz" "$scratch"/tarballs/vespid-protocol-*.tgz "$scratch"/tarballs/vespid-sdk-agent-*.tgz)
cp "$root/scripts/pack-check/node-agent.mjs" .
mkdir -p "$scratch/global" "$scratch/npx"
npm install -g --prefix "$scratch/global" --no-audit --no-fund --loglevel=error "${agent_deps[@]}" >/dev/null
echo "node-agent: npm i -g installs $(du -sh "$scratch/global/lib/node_modules" | cut -f1) (with the Docker sandbox's optional dockerode)"
# A connector-only agent: without optional dependencies, so no dockerode (nor ssh2 and its native addon).
# (A project install: npm ignores --omit with -g and tarballs, npm/cli#8284.)
mkdir -p "$scratch/lean-agent"
printf '{ "name": "lean-agent", "private": true, "version": "0.0.0" }\n' > "$scratch/lean-agent/package.json"
(cd "$scratch/lean-agent" && npm install --omit=optional --no-audit --no-fund --loglevel=error "${agent_deps[@]}" >/dev/null)
if [ -n "$(find "$scratch/lean-agent/node_modules" -type d -name dockerode -print -quit)" ]; then
  echo "pack-check: npm install --omit=optional @vespid/node-agent still installed dockerode" >&2; exit 1
fi
echo "node-agent: npm install --omit=optional installs $(du -sh "$scratch/lean-agent/node_modules" | cut -f1) (connector-only: no dockerode)"
timeout 120 node node-agent.mjs "$scratch/lean-agent/node_modules/.bin/vespid-agent"
timeout 120 node node-agent.mjs "$scratch/global/bin/vespid-agent"
npx_pkgs=(); for t in "${agent_deps[@]}"; do npx_pkgs+=(--package "$t"); done
(cd "$scratch/npx" && timeout 180 node "$scratch/app/node-agent.mjs" npx --yes "${npx_pkgs[@]}" vespid-agent)
# A dispatch-client-only worker: protocol + sdk-dispatch, without their optional peers (ioredis, bullmq,
# pg). The root entry must not even mention them (a bundler or a plain require would then need them).
mkdir -p "$scratch/lean-dispatch"
printf '{ "name": "lean-dispatch", "private": true, "version": "0.0.0" }\n' > "$scratch/lean-dispatch/package.json"
(cd "$scratch/lean-dispatch" && npm install --no-audit --no-fund --loglevel=error "$scratch"/tarballs/vespid-protocol-*.tgz "$scratch"/tarballs/vespid-sdk-dispatch-*.tgz >/dev/null)
# (the root entry and the chunks it shares with the subpaths)
lean_dist="$scratch/lean-dispatch/node_modules/@vespid/sdk-dispatch/dist"
root_files=$(find "$lean_dist" -maxdepth 1 -type f \( -name 'index.js' -o -name 'index.cjs' -o -name 'chunk-*.js' -o -name 'chunk-*.cjs' \))
# shellcheck disable=SC2086 # one path per word (no spaces in the scratch path's own names)
if grep -EHn "(require\(|from |import\()[\"'](ioredis|bullmq|pg)[\"']" $root_files; then
  echo "pack-check: @vespid/sdk-dispatch's root entry loads an optional peer" >&2; exit 1
fi
cp "$root/scripts/pack-check/lean-dispatch.mjs" "$scratch/lean-dispatch/"
(cd "$scratch/lean-dispatch" && NODE_PATH='' timeout 60 node lean-dispatch.mjs)
echo "sdk-dispatch: client-only install $(du -sh "$scratch/lean-dispatch/node_modules" | cut -f1) (no ioredis, bullmq, pg)"
# What `npm install <package>` brings to a user, per library (dependencies only; optional peers left out).
for lib in protocol sdk-gateway sdk-dispatch sdk-agent; do
  dir="$scratch/size-$lib"; mkdir -p "$dir"
  printf '{ "name": "size-%s", "private": true, "version": "0.0.0" }\n' "$lib" > "$dir/package.json"
  # The @vespid tarballs it depends on come from $scratch/tarballs; npm resolves them by being listed.
  deps=("$scratch"/tarballs/vespid-$lib-*.tgz); [ "$lib" != protocol ] && deps+=("$scratch"/tarballs/vespid-protocol-*.tgz)
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "${deps[@]}" >/dev/null)
  echo "install size: @vespid/$lib -> $(du -sh "$dir/node_modules" | cut -f1), $(cd "$dir" && npm ls --all --parseable 2>/dev/null | tail -n +2 | sort -u | wc -l) packages"
done
echo "pack-check: ok (${#tarballs[@]} packages: ESM + CJS round trip, conformance suites, docs quickstart; node-agent via npm i -g and npx) in $scratch"
