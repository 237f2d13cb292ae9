import { defineConfig } from 'tsup';
import { hostBuild } from '../../scripts/host-build.js';

export default defineConfig(hostBuild({ entry: { main: 'src/main.ts' } }));
