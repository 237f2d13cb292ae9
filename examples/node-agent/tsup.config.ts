import { defineConfig } from 'tsup';

// Builds the `vespid-agent` bin so the package runs without pnpm/tsx: `node dist/cli.js connect …`.
export default defineConfig({
  entry: { cli: 'src/cli.ts', index: 'src/index.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  clean: true,
  sourcemap: true,
  dts: false,
});
