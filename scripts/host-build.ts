/**
 * The tsup build of a reference host (gateway, api, worker): one self-contained ESM file per entry in
 * `dist/`, workspace packages and npm dependencies inlined, so `node dist/main.js` needs nothing but
 * Node (the container images copy only `dist/`). The Postgres migrations are copied beside it.
 */
import { cpSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Options } from 'tsup';

const MIGRATIONS = fileURLToPath(new URL('../examples/db/migrations/', import.meta.url));

/** Optional native or never-loaded modules that bundled dependencies mention; left as imports. */
const EXTERNAL = ['pg-native', 'bufferutil', 'utf-8-validate', 'esbuild', 'playwright-core', 'cpu-features', 'ssh2'];

const versionOf = (dir: string): string =>
  (JSON.parse(readFileSync(new URL(`../${dir}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;

/**
 * The version constants of the workspace packages (their src/version.ts), inlined as their own builds
 * do: the hosts bundle those packages from source, and `node dist/main.js` in an image has no
 * package.json to read them from.
 */
const VERSION_DEFINES = {
  __VESPID_GATEWAY_VERSION__: JSON.stringify(versionOf('packages/sdk-gateway')),
  __VESPID_AGENT_VERSION__: JSON.stringify(versionOf('packages/sdk-agent')),
  __VESPID_NODE_AGENT_VERSION__: JSON.stringify(versionOf('examples/node-agent')),
};

/**
 * tsup options for a host.
 *
 * @example
 * ```ts
 * export default defineConfig(hostBuild({ entry: { main: 'src/main.ts' } }));
 * ```
 */
export function hostBuild(options: { entry: Record<string, string>; onSuccess?: () => Promise<void> }): Options {
  return {
    entry: options.entry,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    outDir: 'dist',
    clean: true,
    sourcemap: true,
    splitting: false,
    dts: false,
    noExternal: [/.*/],
    external: EXTERNAL,
    define: VERSION_DEFINES,
    // CommonJS dependencies inlined into ESM still call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __vespidCreateRequire } from 'node:module'; const require = __vespidCreateRequire(import.meta.url);",
    },
    async onSuccess() {
      cpSync(MIGRATIONS, 'dist/migrations', { recursive: true });
      await options.onSuccess?.();
    },
  };
}
