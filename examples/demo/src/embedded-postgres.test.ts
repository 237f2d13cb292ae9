import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closedToOthers } from './embedded-postgres.js';

describe('closedToOthers (embedded Postgres as root runs as `postgres`, which must enter every directory)', () => {
  const base = mkdtempSync(join(tmpdir(), 'vespid-demo-perm-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('names the first directory others cannot enter, as in a `mktemp -d` checkout (0700)', () => {
    const inner = join(base, 'checkout', 'node_modules', 'bin');
    mkdirSync(inner, { recursive: true });
    chmodSync(base, 0o755);
    chmodSync(join(base, 'checkout'), 0o700);
    expect(closedToOthers(inner)).toBe(join(base, 'checkout'));
  });

  it('is undefined when every directory lets others enter, and ignores what does not exist yet', () => {
    chmodSync(join(base, 'checkout'), 0o755);
    expect(closedToOthers(join(base, 'checkout', 'node_modules', 'bin'))).toBeUndefined();
    expect(closedToOthers(join(base, 'checkout', 'not-yet', 'pg'))).toBeUndefined();
  });
});
