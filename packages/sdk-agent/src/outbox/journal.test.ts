import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecuteResultMessage } from '@vespid/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingLogger } from '../../test/outbox/test-logger.js';
import { decodeJournal, encodeRecord, JOURNAL_FILE, Journal } from './journal.js';

const result = (requestId: string, output: unknown = { ok: true }): ExecuteResultMessage => ({
  type: 'execute_result',
  requestId,
  status: 'succeeded',
  output,
});

describe('outbox journal file', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'vespid-journal-'));
    dirs.push(d);
    return join(d, 'state');
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('creates the file 0600 in a 0700 directory and reads back what was appended', async () => {
    const dir = tmp();
    const { journal, records } = await Journal.open(dir, recordingLogger());
    expect(records).toEqual([]);
    journal.append({ t: 'started', id: 'r1', at: 1 });
    journal.append({ t: 'result', at: 2, r: result('r1') });
    await journal.sync();
    journal.close();
    expect(statSync(join(dir, JOURNAL_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const again = await Journal.open(dir, recordingLogger());
    expect(again.records).toEqual([
      { t: 'started', id: 'r1', at: 1 },
      { t: 'result', at: 2, r: result('r1') },
    ]);
    again.journal.close();
  });

  it('skips a truncated tail and a corrupted line with a warning, keeping every valid record', async () => {
    const dir = tmp();
    const { journal } = await Journal.open(dir, recordingLogger());
    journal.append({ t: 'result', at: 1, r: result('a') });
    journal.append({ t: 'result', at: 2, r: result('b') });
    journal.close();
    const file = join(dir, JOURNAL_FILE);
    // One flipped byte inside the first record (checksum mismatch), and a torn final write.
    const text = readFileSync(file, 'utf8').replace('"a"', '"x"');
    writeFileSync(file, text);
    appendFileSync(file, encodeRecord({ t: 'result', at: 3, r: result('c') }).slice(0, 30));
    const log = recordingLogger();
    const { journal: j2, records } = await Journal.open(dir, log);
    j2.close();
    expect(records).toEqual([{ t: 'result', at: 2, r: result('b') }]);
    const warn = log.lines.find((l) => l.msg === 'outbox journal: skipped corrupt or truncated records');
    expect(warn).toMatchObject({ level: 'warn', skipped: 2, truncatedTail: true, kept: 1 });
  });

  it('a record appended right after a torn tail starts its own line (even without a compaction)', async () => {
    const dir = tmp();
    const first = await Journal.open(dir, recordingLogger());
    first.journal.close();
    appendFileSync(join(dir, JOURNAL_FILE), encodeRecord({ t: 'started', id: 'torn', at: 1 }).slice(0, 25));
    const { journal } = await Journal.open(dir, recordingLogger());
    journal.append({ t: 'started', id: 'after', at: 2 });
    journal.close();
    const again = await Journal.open(dir, recordingLogger());
    again.journal.close();
    expect(again.records).toEqual([{ t: 'started', id: 'after', at: 2 }]);
  });

  it('decodes garbage (binary, wrong checksums, foreign JSON) to nothing instead of throwing', () => {
    const garbage = `\u0000\u0001\uffff\n00000000 {"t":"acked","id":"r"}\n12345678 not json\n${'z'.repeat(9)} {}\n`;
    expect(decodeJournal(garbage)).toMatchObject({ records: [], skipped: 4, truncatedTail: false });
  });

  it('group-commits: concurrent syncs share fdatasync calls and all resolve', async () => {
    const { journal } = await Journal.open(tmp(), recordingLogger());
    const waits = [];
    for (let i = 0; i < 50; i++) {
      journal.append({ t: 'started', id: `r${i}`, at: i });
      waits.push(journal.sync());
    }
    await Promise.all(waits);
    // One sync running and at most one queued behind it at any time: the 50 callers share two promises.
    expect(new Set(waits).size).toBeLessThanOrEqual(2);
    journal.close();
  });

  it('rewrite replaces the content atomically and appends continue on the new file', async () => {
    const dir = tmp();
    const { journal } = await Journal.open(dir, recordingLogger());
    for (let i = 0; i < 10; i++) journal.append({ t: 'result', at: i, r: result(`r${i}`) });
    const pending = journal.sync();
    journal.rewrite([{ t: 'result', at: 9, r: result('r9') }]);
    journal.append({ t: 'acked', id: 'r9' });
    await pending;
    await journal.sync();
    journal.close();
    const { records, journal: j2 } = await Journal.open(dir, recordingLogger());
    j2.close();
    expect(records).toEqual([
      { t: 'result', at: 9, r: result('r9') },
      { t: 'acked', id: 'r9' },
    ]);
    expect(statSync(join(dir, JOURNAL_FILE)).mode & 0o777).toBe(0o600);
  });
});
