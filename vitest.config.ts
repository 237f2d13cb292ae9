import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
const pkg = (p: string) => `${root}packages/${p}`;

// Tests run against source, not dist: `@vespid/x` and `@vespid/x/sub` resolve to src/ (sub → src/sub/index.ts).
const alias = [
  { find: /^@vespid\/protocol$/, replacement: pkg('protocol/src/index.ts') },
  ...['sdk-gateway', 'sdk-agent', 'sdk-dispatch'].flatMap((name) => [
    { find: new RegExp(`^@vespid/${name}$`), replacement: pkg(`${name}/src/index.ts`) },
    { find: new RegExp(`^@vespid/${name}/(.+)$`), replacement: pkg(`${name}/src/$1/index.ts`) },
  ]),
];

const testGlobs = ['packages/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'];

export default defineConfig({
  resolve: { alias },
  test: {
    // Under CI a JSON report lets .ci/run print a plain 'N passed, N failed' closing line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-artifacts/vitest.json' }]] : ['default'],
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: testGlobs,
          exclude: ['**/*.int.test.ts', '**/node_modules/**', '**/dist/**'],
          testTimeout: 10_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: testGlobs.map((g) => g.replace('*.test.ts', '*.int.test.ts')),
          exclude: ['**/node_modules/**', '**/dist/**'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Integration files share one Postgres, Redis and Docker engine on a 2-core machine.
          fileParallelism: false,
        },
      },
    ],
  },
});
