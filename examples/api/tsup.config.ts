import { mkdirSync, writeFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { hostBuild } from '../../scripts/host-build.js';
import { PREBUILT_FILES, bundlePageAssets } from './src/web/bundle.js';

// The /agents page is bundled here, at build time, so the running host never invokes esbuild.
export default defineConfig(
  hostBuild({
    entry: { main: 'src/main.ts' },
    async onSuccess() {
      const { js, css } = await bundlePageAssets();
      mkdirSync('dist/agents-assets', { recursive: true });
      writeFileSync(`dist/agents-assets/${PREBUILT_FILES.js}`, js);
      writeFileSync(`dist/agents-assets/${PREBUILT_FILES.css}`, css);
    },
  }),
);
