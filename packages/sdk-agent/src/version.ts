import { createRequire } from 'node:module';

/** Replaced by tsup's `define` with package.json's version at build time (see tsup.config.ts). */
declare const __VESPID_AGENT_VERSION__: string | undefined;

/**
 * Version of this package, reported in `hello.agentVersion` by default, from its package.json: inlined
 * by the build, read from package.json when running from source (tsx, vitest) so that it can never
 * drift from the published version.
 * @example
 * ```ts
 * import { AGENT_VERSION } from '@vespid/sdk-agent';
 * logger.info({ version: AGENT_VERSION }, 'agent starting');
 * ```
 */
export const AGENT_VERSION: string = typeof __VESPID_AGENT_VERSION__ === 'string' ? __VESPID_AGENT_VERSION__ : versionFromSource();

/** Source only (the built files never reach it): src/version.ts sits one level below package.json. */
function versionFromSource(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}
