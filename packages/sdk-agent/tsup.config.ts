import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'docker/index': 'src/docker/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  treeshake: true,
  // import.meta.url in the CJS build (tracing loads its optional peer with createRequire).
  shims: true,
  // The testing subpath registers vitest suites; vitest stays the consumer's own dev dependency.
  external: ['vitest'],
});
