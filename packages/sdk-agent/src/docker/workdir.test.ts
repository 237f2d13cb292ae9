import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { locateRun, prepareWorkdir, removeWorkdir, workdirPath } from './workdir.js';

const made: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'vespid-wdu-'));
  made.push(d);
  return d;
}
afterEach(async () => {
  for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('per-run workdir', () => {
  it('locates a run from the payload, the request id, or the request id alone', () => {
    expect(locateRun('o', 'ignored', { runId: 'r', nodeId: 'n', attempt: 1 })).toEqual({
      organizationId: 'o',
      runId: 'r',
      nodeId: 'n',
      attempt: 1,
    });
    expect(locateRun('o', 'r:1:x:n:3')).toEqual({ organizationId: 'o', runId: 'r:1:x', nodeId: 'n', attempt: 3 });
    expect(locateRun('o', 'req-42')).toEqual({ organizationId: 'o', runId: 'req-42' });
  });

  it('builds <root>/<org>/<run>/<node>/<attempt>', () => {
    expect(workdirPath('/wd', { organizationId: 'o', runId: 'r', nodeId: 'n', attempt: 0 })).toBe('/wd/o/r/n/0');
    expect(workdirPath('/wd', { organizationId: 'o', runId: 'r' })).toBe('/wd/o/r');
  });

  it.each(['..', '.', 'a/b', '../x', 'a\\b', 'nul\0', '.hidden', 'x'.repeat(300)])('refuses the run id %j with WORKDIR_ESCAPE', (runId) => {
    expect(() => workdirPath('/wd', { organizationId: 'o', runId, nodeId: 'n', attempt: 0 })).toThrow(
      expect.objectContaining({ code: 'WORKDIR_ESCAPE' }),
    );
  });

  it('creates the directory (and nothing else), and refuses a symlink that leads outside the root', async () => {
    const root = await tmp();
    const dir = join(root, 'o', 'r', 'n', '0');
    await prepareWorkdir(root, dir, undefined);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(readdirSync(root)).toEqual(['o']);
    expect(readdirSync(dir)).toEqual([]);

    // A link planted where a later run's level goes (e.g. inside a `<org>/<requestId>` run dir) must not
    // lead outside: nothing is created there, and cleanup does not delete the link's target.
    const outside = await tmp();
    await mkdir(join(outside, 'n', '0'), { recursive: true });
    await writeFile(join(outside, 'n', '0', 'precious'), 'keep');
    await mkdir(join(root, 'o2'));
    await symlink(outside, join(root, 'o2', 'r'));
    const escaped = join(root, 'o2', 'r', 'n', '0');
    await expect(prepareWorkdir(root, escaped, undefined)).rejects.toMatchObject({ code: 'WORKDIR_ESCAPE' });
    await expect(prepareWorkdir(root, join(root, 'o2', 'r', 'm', '1'), undefined)).rejects.toMatchObject({
      code: 'WORKDIR_ESCAPE',
    });
    expect(existsSync(join(outside, 'm'))).toBe(false);
    await removeWorkdir(root, escaped);
    expect(readFileSync(join(outside, 'n', '0', 'precious'), 'utf8')).toBe('keep');
  });

  it('removes the run directory and the parents it emptied, keeping shared ones', async () => {
    const root = await tmp();
    const a = join(root, 'o', 'r', 'n', '0');
    const b = join(root, 'o', 'r', 'm', '0');
    await mkdir(a, { recursive: true });
    await mkdir(b, { recursive: true });
    await removeWorkdir(root, a);
    expect(existsSync(join(root, 'o', 'r', 'n'))).toBe(false);
    expect(existsSync(b)).toBe(true);
    await removeWorkdir(root, b);
    expect(existsSync(join(root, 'o'))).toBe(false);
    expect(existsSync(root)).toBe(true);
  });
});
