/**
 * The tsup build of a reference host (gateway, api, worker): one self-contained ESM file per entry in
 * `dist/`, workspace packages and npm dependencies inlined, so `node dist/main.js` needs nothing but
 * Node (the container images copy only `dist/`). The Postgres migrations are copied beside it.
 */
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Options } from 'tsup';

const MIGRATIONS = fileURLToPath(new URL('../examples/db/migrations/', import.meta.url));

/** Optional native or never-loaded modules that bundled dependencies mention; left as imports. */
const EXTERNAL = ['pg-native', 'bufferutil', 'utf-8-validate', 'esbuild', 'playwright-core', 'cpu-features', 'ssh2'];

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
