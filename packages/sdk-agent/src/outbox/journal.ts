import {
  closeSync,
  fdatasync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ExecuteResultSchema, type Logger, RequestIdSchema } from '@vespid/protocol';
import { z } from 'zod';

/**
 * One line of the outbox journal. `started` carries the request id only (never the task's input or
 * secret); `result` is the wire result exactly as it is sent (already scrubbed of the secret);
 * `acked` forgets an entry.
 */
export const JournalRecordSchema = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('started'), id: RequestIdSchema, at: z.number() }),
  z.strictObject({ t: z.literal('result'), at: z.number(), r: ExecuteResultSchema }),
  z.strictObject({ t: z.literal('acked'), id: RequestIdSchema }),
]);
export type JournalRecord = z.infer<typeof JournalRecordSchema>;

/** File name of the journal inside the state directory. */
export const JOURNAL_FILE = 'outbox.journal';

/**
 * Encodes a record as `<crc32 hex> <json>\n`. The checksum tells a torn or corrupted line from a
 * valid one after a crash; JSON never contains a raw newline, so lines are the framing.
 */
export function encodeRecord(record: JournalRecord): string {
  const json = JSON.stringify(record);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/** Parses journal bytes; bad lines (checksum, JSON, shape) and an unterminated tail are skipped and counted. */
export function decodeJournal(text: string): { records: JournalRecord[]; skipped: number; truncatedTail: boolean } {
  const records: JournalRecord[] = [];
  let skipped = 0;
  const lines = text.split('\n');
  // The last piece is '' when the file ends with a newline; anything else is a torn final write.
  const tail = lines.pop() ?? '';
  const truncatedTail = tail.length > 0;
  if (truncatedTail) skipped++;
  for (const line of lines) {
    if (!line) continue;
    const record = decodeLine(line);
    if (record) records.push(record);
    else skipped++;
  }
  return { records, skipped, truncatedTail };
}

function decodeLine(line: string): JournalRecord | undefined {
  const space = line.indexOf(' ');
  if (space !== 8) return undefined;
  const json = line.slice(9);
  if (Number.parseInt(line.slice(0, 8), 16) !== crc32(json)) return undefined;
  try {
    const parsed = JournalRecordSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The append-only outbox file (mode 0600 in a 0700 state directory). Appends are synchronous
 * `write`s, so a record is in the kernel (safe against `kill -9`) before the caller moves on;
 * `sync()` adds an `fdatasync` (safe against a host crash), group-committed: every caller waiting
 * at the same time shares one. Compaction rewrites the live records to a temporary file, fsyncs it
 * and renames it over the journal, so a crash leaves either the old or the new file, never a mix.
 */
export class Journal {
  readonly #path: string;
  readonly #dir: string;
  #fd: number;
  #bytes: number;
  #syncing: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #closed = false;

  private constructor(dir: string, path: string, fd: number, bytes: number) {
    this.#dir = dir;
    this.#path = path;
    this.#fd = fd;
    this.#bytes = bytes;
  }

  /**
   * Opens (creating) the journal in `dir`, returning its valid records. Corrupt lines and a torn
   * tail are skipped with a warning; the caller then compacts, which also removes them.
   */
  static async open(dir: string, logger: Logger): Promise<{ journal: Journal; records: JournalRecord[] }> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700).catch(() => undefined); // not ours (e.g. a shared /var/lib dir): leave it
    const path = join(dir, JOURNAL_FILE);
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const { records, skipped, truncatedTail } = decodeJournal(text);
    if (skipped > 0) {
      logger.warn({ file: path, skipped, truncatedTail, kept: records.length }, 'outbox journal: skipped corrupt or truncated records');
    }
    const fd = openSync(path, 'a', 0o600);
    // End a torn line, so that if the caller's compaction fails the next record still starts a line of its own.
    if (truncatedTail) writeSync(fd, '\n');
    const journal = new Journal(dir, path, fd, fstatSync(fd).size);
    return { journal, records };
  }

  /** Current file size in bytes. */
  get bytes(): number {
    return this.#bytes;
  }

  get path(): string {
    return this.#path;
  }

  /** Appends one record (in the kernel when this returns); returns its size. */
  append(record: JournalRecord): number {
    const line = Buffer.from(encodeRecord(record), 'utf8');
    let off = 0;
    while (off < line.length) off += writeSync(this.#fd, line, off);
    this.#bytes += line.length;
    return line.length;
  }

  /** Resolves when everything appended before the call is on disk. */
  sync(): Promise<void> {
    if (this.#queued) return this.#queued;
    if (!this.#syncing) return this.#startSync();
    // A sync is running and may have started before our append: queue exactly one more behind it.
    const queued = this.#syncing.then(
      () => this.#startSync(),
      () => this.#startSync(),
    );
    this.#queued = queued;
    return queued;
  }

  #startSync(): Promise<void> {
    this.#queued = undefined;
    // Closed while queued: the descriptor is gone (its data was written; only the power-loss sync is skipped).
    if (this.#closed) return Promise.resolve();
    const fd = this.#fd;
    const run = new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
    this.#syncing = run;
    const clear = () => {
      if (this.#syncing === run) this.#syncing = undefined;
    };
    run.then(clear, clear);
    return run;
  }

  /** Empties the journal (nothing is live). A crash before it lands only replays records that cancel out. */
  truncate(): void {
    ftruncateSync(this.#fd, 0);
    this.#bytes = 0;
  }

  /** Atomically replaces the journal by `records` (fsynced before the rename). */
  rewrite(records: readonly JournalRecord[]): void {
    const tmp = `${this.#path}.${process.pid}.tmp`;
    const data = records.map(encodeRecord).join('');
    try {
      writeFileSync(tmp, data, { mode: 0o600 });
      const tfd = openSync(tmp, 'r+');
      try {
        fsyncSync(tfd);
      } finally {
        closeSync(tfd);
      }
      renameSync(tmp, this.#path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    this.#fsyncDir();
    const old = this.#fd;
    this.#fd = openSync(this.#path, 'a', 0o600);
    this.#bytes = Buffer.byteLength(data);
    // A running fdatasync still uses the old descriptor: close it once that is done.
    const pending = this.#syncing;
    if (pending)
      void pending.then(
        () => closeSync(old),
        () => closeSync(old),
      );
    else closeSync(old);
  }

  /** Makes the rename durable (Linux needs the directory entry synced too). */
  #fsyncDir(): void {
    try {
      const dfd = openSync(this.#dir, 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch {
      // Some platforms cannot fsync a directory; the rename is still atomic.
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const fd = this.#fd;
    const pending = this.#queued ?? this.#syncing;
    if (pending)
      void pending.then(
        () => closeSync(fd),
        () => closeSync(fd),
      );
    else closeSync(fd);
  }
}
