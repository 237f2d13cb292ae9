#!/usr/bin/env node
// `pnpm build:agent-binary`: the node-agent as ONE file for linux-x64 (Node's single executable
// applications): bundle the CLI and every dependency into one CommonJS script, turn it into a SEA blob
// (`node --experimental-sea-config`), copy this node binary and inject the blob with postject.
// Writes examples/node-agent/dist/vespid-agent (and dist/sea/ for the intermediate files).
// `--bundle-only` stops after the bundle (dist/sea/vespid-agent.cjs): what the Dockerfile copies.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const seaDir = join(pkgDir, 'dist', 'sea');
const bundle = join(seaDir, 'vespid-agent.cjs');
const blob = join(seaDir, 'sea-prep.blob');
const output = join(pkgDir, 'dist', 'vespid-agent');

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.warn(`build-binary: building for ${process.platform}-${process.arch} (the supported target is linux-x64)`);
}
const readVersion = (file) => JSON.parse(readFileSync(file, 'utf8')).version;
const version = readVersion(join(pkgDir, 'package.json'));
const agentVersion = readVersion(join(pkgDir, '..', '..', 'packages', 'sdk-agent', 'package.json'));
rmSync(seaDir, { recursive: true, force: true });
mkdirSync(seaDir, { recursive: true });

await build({
  entry: { 'vespid-agent': 'src/cli.ts' },
  outDir: seaDir,
  format: ['cjs'],
  outExtension: () => ({ js: '.cjs' }),
  platform: 'node',
  target: 'node20',
  // `config: false` skips tsup.config.ts, so the version constants are inlined here: `--version` of the
  // binary is package.json's version and nothing reads a package.json at run time (a SEA has none).
  // sdk-agent's too: the tsconfig paths bundle it from source, where its constant is not inlined yet.
  define: {
    __VESPID_NODE_AGENT_VERSION__: JSON.stringify(version),
    __VESPID_AGENT_VERSION__: JSON.stringify(agentVersion),
  },
  // Everything in the one file: a SEA can `require` only Node's built-in modules.
  noExternal: [/.*/],
  // Optional native add-ons of ssh2 (via dockerode); their require() sits in a try/catch and falls
  // back to pure JavaScript, which is what the bundle uses.
  external: ['cpu-features', '*.node'],
  // ws tries the optional native bufferutil / utf-8-validate at load; a SEA cannot load them (and warns
  // on every start), so tell ws to use its JavaScript fallbacks from the first line.
  banner: { js: "process.env.WS_NO_BUFFER_UTIL ??= '1'; process.env.WS_NO_UTF_8_VALIDATE ??= '1';" },
  splitting: false,
  sourcemap: false,
  clean: false,
  dts: false,
  minify: false,
  silent: true,
  config: false,
  tsconfig: join(pkgDir, 'tsconfig.json'),
});

// The bundle must answer --version without any package.json beside it: run it once from here.
const reported = execFileSync(process.execPath, [bundle, '--version'], { cwd: seaDir, encoding: 'utf8' }).trim();
if (reported !== version) throw new Error(`build-binary: the bundle reports version ${reported}, package.json says ${version}`);

if (process.argv.includes('--bundle-only')) {
  console.log(`build-binary: ${bundle} (${(statSync(bundle).size / 1024 / 1024).toFixed(1)} MiB)`);
  process.exit(0);
}

writeFileSync(
  join(seaDir, 'sea-config.json'),
  JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false }, null, 2),
);
execFileSync(process.execPath, ['--experimental-sea-config', join(seaDir, 'sea-config.json')], { stdio: 'inherit' });

copyFileSync(process.execPath, output);
chmodSync(output, 0o755);
const require = createRequire(import.meta.url);
const postject = join(dirname(require.resolve('postject/package.json')), 'dist', 'cli.js');
execFileSync(
  process.execPath,
  [postject, output, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'],
  {
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
console.log(`build-binary: ${output} (${mb(statSync(output).size)}; bundle ${mb(statSync(bundle).size)}, node ${process.version})`);
