// One-off generator for library package.json files: keeps the exports maps of all libraries identical
// in shape (types first, ESM + CJS). Run: node scripts/gen-package.mjs <dir> <name> <description> [subpath...]
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [dir, name, description, ...subpaths] = process.argv.slice(2);
const file = join(dir, 'package.json');
const prev = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
const entry = (base) => ({
  import: { types: `./dist/${base}.d.ts`, default: `./dist/${base}.js` },
  require: { types: `./dist/${base}.d.cts`, default: `./dist/${base}.cjs` },
});
const exportsMap = { '.': entry('index') };
for (const sp of subpaths) exportsMap[`./${sp}`] = entry(`${sp}/index`);
exportsMap['./package.json'] = './package.json';
const pkg = {
  name,
  version: prev.version ?? '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  engines: { node: '>=20.19' },
  files: ['dist'],
  main: './dist/index.cjs',
  module: './dist/index.js',
  types: './dist/index.d.cts',
  exports: exportsMap,
  ...(subpaths.length ? { typesVersions: { '*': Object.fromEntries(subpaths.map((sp) => [sp, [`./dist/${sp}/index.d.ts`]])) } } : {}),
  scripts: { build: 'tsup', publint: 'publint --strict', attw: 'attw --pack . --profile node16' },
  dependencies: prev.dependencies ?? {},
  ...(prev.peerDependencies ? { peerDependencies: prev.peerDependencies } : {}),
  ...(prev.devDependencies ? { devDependencies: prev.devDependencies } : {}),
  keywords: ['vespid', 'remote-execution'],
};
writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
writeFileSync(
  join(dir, 'tsup.config.ts'),
  `import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ${JSON.stringify(Object.fromEntries([['index', 'src/index.ts'], ...subpaths.map((sp) => [`${sp}/index`, `src/${sp}/index.ts`])]))},
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  treeshake: true,
});
`,
);
writeFileSync(
  join(dir, 'tsconfig.json'),
  `${JSON.stringify({ extends: '../../tsconfig.base.json', include: ['src'], exclude: ['src/**/*.test.ts'] }, null, 2)}\n`,
);
