import { createRequire } from 'node:module';

/** Replaced by `define` with package.json's version at build time (tsup.config.ts, scripts/build-binary.mjs). */
declare const __VESPID_NODE_AGENT_VERSION__: string | undefined;

/**
 * Version of the `@vespid/node-agent` package, reported in `hello.agentVersion` and by `--version`.
 * Inlined by both builds, so the SEA binary needs no package.json beside it; read from package.json
 * when running from source (tsx, vitest).
 */
export const NODE_AGENT_VERSION: string =
  typeof __VESPID_NODE_AGENT_VERSION__ === 'string' ? __VESPID_NODE_AGENT_VERSION__ : versionFromSource();

/** Source only (the builds never reach it): src/version.ts sits one level below package.json. */
function versionFromSource(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}
