import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

// The version constant (src/version.ts) is inlined from package.json, so it cannot drift from it.
const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  entry: { index: 'src/index.ts', 'docker/index': 'src/docker/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  define: { __VESPID_AGENT_VERSION__: JSON.stringify(version) },
  treeshake: true,
  // import.meta.url in the CJS build (tracing loads its optional peer with createRequire).
  shims: true,
  // The testing subpath registers vitest suites; vitest stays the consumer's own dev dependency.
  external: ['vitest'],
});
