import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWith, uniquePrefix } from '../../../../test/services.js';
import { executorConformance } from '../testing/index.js';
import { dockerSandboxExecutor } from './index.js';
import { BUSYBOX } from '../../test/docker/test-helpers.js';

// The Docker sandbox passes the same executor suite plugin authors run on theirs.
for (const poolSize of [0, 2]) {
  await describeWith(['docker'], `docker sandbox conformance (poolSize ${poolSize})`, () => {
    let root: string | undefined;
    executorConformance({
      name: `dockerSandboxExecutor (poolSize ${poolSize})`,
      async create() {
        root = await mkdtemp(join(tmpdir(), 'vespid-wdc-'));
        return dockerSandboxExecutor({
          image: BUSYBOX,
          workdirRoot: root,
          scope: uniquePrefix('conf'),
          sweepIntervalMs: 0,
          killGraceMs: 200,
          poolSize,
        });
      },
      setup: () => ({
        ok: { payload: { task: { type: 'shell', script: 'echo ok' } } },
        slow: { payload: { task: { type: 'shell', script: 'sleep 30' } } },
        teardown: async () => {
          if (root) await rm(root, { recursive: true, force: true });
        },
      }),
    });
  });
}
