import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'postgres/index': 'src/postgres/index.ts',
    'redis/index': 'src/redis/index.ts',
    'testing/index': 'src/testing/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  treeshake: true,
  // import.meta.url in the CJS build (tracing loads its optional peer with createRequire).
  shims: true,
  // The testing subpath registers vitest suites; vitest stays the consumer's own dev dependency.
  // ioredis, bullmq and pg are optional peers (only /redis and /postgres use them): never bundled, and
  // tsup's default (externalize dependencies) no longer covers them now that they are devDependencies.
  external: ['vitest', 'ioredis', 'bullmq', 'pg'],
});
