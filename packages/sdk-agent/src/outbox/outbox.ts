import type { ExecuteResultMessage, Logger } from '@vespid/protocol';
import { Journal, type JournalRecord } from './journal.js';

/** Journaled results older than this at start-up are dropped: no gateway keeps a dispatch record that long. */
export const OUTBOX_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** Below this many bytes of acknowledged records the journal is not worth rewriting. */
const COMPACT_MIN_BYTES = 1024 * 1024;

/** Options of {@link ResultOutbox}. */
export interface ResultOutboxOptions {
  /** Directory of the journal; without one, results are kept in memory only (lost with the process). */
  stateDir?: string | undefined;
  /** At this many unacknowledged results the agent refuses new tasks (`AGENT_OUTBOX_FULL`). */
  maxEntries: number;
  /** At this many bytes of unacknowledged results the agent refuses new tasks (`AGENT_OUTBOX_FULL`). */
  maxBytes: number;
  logger: Logger;
  now?: () => number;
}

interface Entry {
  message: ExecuteResultMessage;
  bytes: number;
  at: number;
  /** Journaled and synced (or not meant to be journaled): may be sent. */
  sendable: boolean;
  /** Written to the journal (refusals are not: no work was done, nothing to recover). */
  journaled: boolean;
}

/**
 * Finished results waiting for the gateway's `execute_ack`, in finish order, optionally backed by an
 * fsync'd journal in the state directory so they survive a crash of the agent. The journal holds
 * results and bare request ids only: a task's payload and secret are never written.
 *
 * Lifecycle of a request in the journal: `started` when accepted, `result` when finished (the result
 * is sent only after the record is on disk), `acked` when the gateway stored it. On start-up, a
 * request with a `started` record and no result was cut short by the crash and is reported as failed
 * `AGENT_RESTARTED` (retryable), instead of leaving the caller waiting until its deadline.
 */
export class ResultOutbox {
  readonly #o: ResultOutboxOptions;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  /** Accepted tasks with a `started` record and no result yet (journal mode only). */
  readonly #started = new Map<string, number>();
  #bytes = 0;
  #journal: Journal | undefined;

  constructor(options: ResultOutboxOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Whether results survive a restart (a state directory is configured and open). */
  get durable(): boolean {
    return this.#journal !== undefined;
  }

  /** Results not yet acknowledged. */
  get size(): number {
    return this.#entries.size;
  }

  /** At the bound: take no new work until acks free space (results already produced are never dropped). */
  get full(): boolean {
    return this.#entries.size >= this.#o.maxEntries || this.#bytes >= this.#o.maxBytes;
  }

  /**
   * Opens the journal and recovers it: unacknowledged results come back, tasks that were running
   * become `AGENT_RESTARTED` failures, and the file is compacted (which also drops a corrupt tail).
   */
  async open(): Promise<void> {
    const dir = this.#o.stateDir;
    if (!dir || this.#journal) return;
    const { journal, records } = await Journal.open(dir, this.#o.logger);
    const now = this.#now();
    const live = new Map<string, { started?: number; result?: { r: ExecuteResultMessage; at: number } }>();
    for (const rec of records) {
      if (rec.t === 'acked') live.delete(rec.id);
      else if (rec.t === 'started') live.set(rec.id, { started: rec.at });
      else live.set(rec.r.requestId, { result: { r: rec.r, at: rec.at } });
    }
    let restarted = 0;
    let expired = 0;
    for (const [requestId, e] of live) {
      const at = e.result?.at ?? e.started ?? now;
      if (now - at > OUTBOX_MAX_AGE_MS) {
        expired++;
        continue;
      }
      const message = e.result?.r ?? restartedResult(requestId);
      if (!e.result) restarted++;
      this.#put(message, at, { sendable: true, journaled: true });
    }
    this.#journal = journal;
    // Always rewritten at start: a torn tail must not be followed by new appends on the same line.
    this.#compact(true);
    await journal.sync();
    if (live.size > 0) {
      this.#o.logger.info(
        { file: journal.path, pending: this.#entries.size, restarted, expired },
        'outbox journal recovered; unacknowledged results will be resent',
      );
    }
  }

  /** Records that a task was accepted (request id only), so a crash reports it as `AGENT_RESTARTED`. */
  started(requestId: string): void {
    if (!this.#journal) return;
    const at = this.#now();
    this.#started.set(requestId, at);
    this.#write({ t: 'started', id: requestId, at });
  }

  /**
   * Adds a result and calls `send` once it may go out: at once without a journal (or for a refusal,
   * `journal: false`), else after the record is synced to disk. A journal that fails (disk full, I/O
   * error) is logged and the result is sent anyway: delivery matters more than surviving a crash.
   */
  add(message: ExecuteResultMessage, send: (m: ExecuteResultMessage) => void, options: { journal?: boolean } = {}): void {
    const journal = options.journal !== false && this.#journal !== undefined;
    this.#started.delete(message.requestId);
    const at = this.#now();
    const entry = this.#put(message, at, { sendable: !journal, journaled: journal });
    if (!journal) {
      send(message);
      return;
    }
    const ok = this.#write({ t: 'result', at, r: message });
    const release = () => {
      if (this.#entries.get(message.requestId) !== entry) return;
      entry.sendable = true;
      send(message);
    };
    if (!ok) {
      release();
      return;
    }
    this.#journal!.sync().then(release, (err: unknown) => {
      this.#o.logger.error({ err: (err as Error)?.message, requestId: message.requestId }, 'outbox journal sync failed; sending anyway');
      release();
    });
  }

  /** The stored result of a request, and whether it may be sent yet (a duplicate `execute`). */
  lookup(requestId: string): { message: ExecuteResultMessage; sendable: boolean } | undefined {
    const e = this.#entries.get(requestId);
    return e ? { message: e.message, sendable: e.sendable } : undefined;
  }

  /** Results to (re)send on a new session, in finish order. */
  *sendable(): Iterable<ExecuteResultMessage> {
    for (const e of this.#entries.values()) if (e.sendable) yield e.message;
  }

  /** `execute_ack`: forget the result, and compact the journal when worthwhile. */
  ack(requestId: string): boolean {
    const e = this.#entries.get(requestId);
    if (!e) return false;
    this.#entries.delete(requestId);
    this.#bytes -= e.bytes;
    if (!this.#journal || !e.journaled) return true;
    // No sync: an ack lost in a crash only makes the result be resent, and the gateway acks it again.
    this.#write({ t: 'acked', id: requestId });
    this.#compact();
    return true;
  }

  /**
   * Drops results older than {@link OUTBOX_MAX_AGE_MS}: a gateway that has not acked them by then
   * never will (its dispatch record is gone), and they must not hold the outbox at its bound forever.
   */
  prune(): number {
    const cutoff = this.#now() - OUTBOX_MAX_AGE_MS;
    let n = 0;
    for (const [id, e] of this.#entries) {
      if (e.at >= cutoff) continue;
      this.ack(id);
      n++;
    }
    if (n > 0) this.#o.logger.warn({ dropped: n, maxAgeMs: OUTBOX_MAX_AGE_MS }, 'outbox: dropped results no gateway acknowledged in time');
    return n;
  }

  /** Closes the journal; unacknowledged results stay in it for the next start. */
  close(): void {
    this.#journal?.close();
    this.#journal = undefined;
  }

  #put(message: ExecuteResultMessage, at: number, flags: { sendable: boolean; journaled: boolean }): Entry {
    const prev = this.#entries.get(message.requestId);
    if (prev) this.#bytes -= prev.bytes;
    const entry: Entry = { message, at, bytes: Buffer.byteLength(JSON.stringify(message)), ...flags };
    this.#entries.set(message.requestId, entry);
    this.#bytes += entry.bytes;
    return entry;
  }

  #anyJournaled(): boolean {
    for (const e of this.#entries.values()) if (e.journaled) return true;
    return false;
  }

  #write(record: JournalRecord): boolean {
    try {
      this.#journal?.append(record);
      return true;
    } catch (err) {
      this.#o.logger.error({ err: (err as Error)?.message }, 'outbox journal write failed; results are kept in memory only');
      return false;
    }
  }

  /** Empties the journal when nothing is live; rewrites it when acknowledged records dominate. */
  #compact(force = false): void {
    const journal = this.#journal;
    if (!journal) return;
    try {
      if (this.#started.size === 0 && !this.#anyJournaled()) {
        if (journal.bytes > 0 || force) journal.truncate();
        return;
      }
      if (!force && journal.bytes < COMPACT_MIN_BYTES + 2 * this.#bytes) return;
      const records: JournalRecord[] = [];
      for (const [id, at] of this.#started) records.push({ t: 'started', id, at });
      for (const e of this.#entries.values()) if (e.journaled) records.push({ t: 'result', at: e.at, r: e.message });
      journal.rewrite(records);
    } catch (err) {
      this.#o.logger.error({ err: (err as Error)?.message }, 'outbox journal compaction failed');
    }
  }
}

function restartedResult(requestId: string): ExecuteResultMessage {
  return {
    type: 'execute_result',
    requestId,
    status: 'failed',
    error: {
      code: 'AGENT_RESTARTED',
      message: 'the agent restarted while this task was queued or running; it may have had partial effects',
      retryable: true,
    },
  };
}
