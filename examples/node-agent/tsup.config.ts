import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

// The version constant (src/version.ts) is inlined from package.json, so it cannot drift from it.
const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

// The npm package: the `vespid-agent` bin and the programmatic entry, ESM, dependencies left external
// (@vespid/sdk-agent, commander, pino…). `@vespid/sdk-agent/docker` stays a lazy import (chunk-free:
// it is external), so dockerode loads only for VESPID_AGENT_EXEC_BACKEND=docker.
// The single executable is built separately (scripts/build-binary.mjs) from one CommonJS bundle.
export default defineConfig({
  entry: { cli: 'src/cli.ts', index: 'src/index.ts' },
  format: ['esm'],
  target: 'node20',
  define: { __VESPID_NODE_AGENT_VERSION__: JSON.stringify(version) },
  platform: 'node',
  clean: true,
  sourcemap: true,
  dts: { entry: { index: 'src/index.ts' } },
  splitting: true,
  // tsup leaves dependencies and peers external, not optionalDependencies: dockerode is one (CommonJS,
  // it cannot be bundled into ESM) and loads only for the Docker backend.
  external: ['dockerode'],
});
