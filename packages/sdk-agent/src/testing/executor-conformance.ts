import { ErrorCodeSchema, type Logger } from '@vespid/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor, ExecutorResult, ExecutorTask } from '../executor.js';

/**
 * Payloads the conformance suite runs; produced once per suite by `setup`.
 *
 * @example
 * ```ts
 * setup: async () => ({ ok: { payload: { n: 1 } }, slow: { payload: { sleepMs: 10_000 } } })
 * ```
 */
export interface ConformanceCases {
  /** A payload that succeeds. Omit for executors that can never succeed (e.g. a disabled backend). */
  ok?: { payload: unknown; secret?: string };
  /** A payload that keeps running for seconds unless aborted (omit if the executor is always instant). */
  slow?: { payload: unknown; secret?: string };
  /** Releases what `setup` started (servers, containers). */
  teardown?: () => Promise<void>;
}

/**
 * Options of {@link executorConformance}.
 *
 * @example
 * ```ts
 * executorConformance({ name: 'mine', create: () => myExecutor(), setup: () => ({ ok: { payload: {} } }) });
 * ```
 */
export interface ExecutorConformanceOptions {
  /** Suite name, e.g. `connectorActionExecutor`. */
  name: string;
  /** Creates the executor under test (called once per suite). */
  create: () => Executor | Promise<Executor>;
  /** Starts fixtures and returns the payloads. */
  setup?: () => ConformanceCases | Promise<ConformanceCases>;
  /** A timeout generous enough for one ok task. @default 20000 */
  taskTimeoutMs?: number;
}

/**
 * A logger that records every line (objects and messages) for secret checks.
 *
 * @example
 * ```ts
 * const logger = capturingLogger();
 * expect(logger.lines.join('\n')).not.toContain(secret);
 * ```
 */
export function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const rec = (obj: object, msg?: string) => {
    lines.push(`${JSON.stringify(obj)} ${msg ?? ''}`);
  };
  const logger: Logger & { lines: string[] } = { lines, debug: rec, info: rec, warn: rec, error: rec, child: () => logger };
  return logger;
}

const CANARY = `conformance-canary-${Math.random().toString(36).slice(2)}-secret`;
let seq = 0;

function task(kind: string, payload: unknown, timeoutMs: number): ExecutorTask {
  return { requestId: `conf:${Date.now().toString(36)}:${++seq}`, organizationId: 'org-conformance', kind, payload, timeoutMs };
}

function expectResultShape(result: ExecutorResult): void {
  expect(['succeeded', 'failed']).toContain(result.status);
  if (result.status === 'failed') {
    expect(ErrorCodeSchema.safeParse(result.error.code).success).toBe(true);
    expect(typeof result.error.message).toBe('string');
  }
  expect(() => JSON.stringify(result)).not.toThrow();
}

/**
 * Registers a vitest suite that every {@link Executor} must pass: a valid `kind`; results of the
 * documented shape (JSON-serializable, catalogue-style error codes); garbage payloads fail instead of
 * throwing; an aborted signal ends a running task and an already-aborted one never hangs; the secret
 * never appears in the output or in the log lines. Plugin authors call it from their own test file.
 *
 * @example
 * ```ts
 * // my-executor.test.ts
 * import { executorConformance } from '@vespid/sdk-agent/testing';
 * executorConformance({ name: 'myExecutor', create: () => myExecutor(), setup: () => ({ ok: { payload: { n: 1 } } }) });
 * ```
 */
export function executorConformance(options: ExecutorConformanceOptions): void {
  const timeoutMs = options.taskTimeoutMs ?? 20_000;
  describe(`executor conformance: ${options.name}`, () => {
    let executor: Executor;
    let cases: ConformanceCases = {};
    const run = async (payload: unknown, opts: { secret?: string; signal?: AbortSignal; logger?: Logger } = {}) => {
      const t = task(executor.kind, payload, timeoutMs);
      return executor.execute(t, {
        signal: opts.signal ?? new AbortController().signal,
        logger: opts.logger ?? capturingLogger(),
        secret: opts.secret,
        deadline: Date.now() + timeoutMs,
      });
    };

    beforeAll(async () => {
      executor = await options.create();
      await executor.start?.();
      cases = (await options.setup?.()) ?? {};
    }, 60_000);
    afterAll(async () => {
      await executor?.close?.();
      await cases.teardown?.();
    }, 60_000);

    it('declares a valid kind', () => {
      expect(executor.kind).toMatch(/^[a-z][a-z0-9_.-]*$/);
    });

    it('fails (never throws) on a garbage payload, with a catalogue-style code', async () => {
      for (const payload of [undefined, null, 42, 'x', { unexpected: { nested: [1, 2] } }]) {
        const result = await run(payload);
        expectResultShape(result);
        expect(result.status).toBe('failed');
      }
    });

    it('returns a result for an already-aborted signal instead of hanging or throwing', async () => {
      const ac = new AbortController();
      ac.abort(new Error('aborted before start'));
      const payload = cases.slow?.payload ?? cases.ok?.payload ?? {};
      const result = await run(payload, { signal: ac.signal }).catch((err: unknown) => ({ thrown: err }));
      expect(result).not.toHaveProperty('thrown');
      expectResultShape(result as ExecutorResult);
    });

    it('keeps the secret out of its output and logs', async () => {
      const logger = capturingLogger();
      const payload = cases.ok?.payload ?? cases.slow?.payload ?? {};
      const ac = new AbortController();
      // A slow-only executor is aborted quickly; the secret must not leak on that path either.
      const timer = cases.ok ? undefined : setTimeout(() => ac.abort(new Error('conformance abort')), 200);
      const result = await run(payload, { secret: CANARY, logger, signal: ac.signal });
      clearTimeout(timer);
      expectResultShape(result);
      expect(JSON.stringify(result)).not.toContain(CANARY);
      expect(logger.lines.join('\n')).not.toContain(CANARY);
    });

    if (options.setup) {
      it('succeeds on the ok case with a JSON-serializable output', async () => {
        if (!cases.ok) {
          // The suite declares no ok case for this executor: check it reports a clean failure instead.
          const result = await run({});
          expectResultShape(result);
          expect(result.status).toBe('failed');
          return;
        }
        const result = await run(cases.ok.payload, { secret: cases.ok.secret });
        expectResultShape(result);
        expect(result, JSON.stringify(result)).toMatchObject({ status: 'succeeded' });
      });

      it('honours abort while running: settles after the signal fires', async () => {
        if (!cases.slow) {
          const ac = new AbortController();
          const pending = run(cases.ok?.payload ?? {}, { signal: ac.signal });
          ac.abort(new Error('conformance abort'));
          expectResultShape(await pending);
          return;
        }
        const ac = new AbortController();
        const pending = run(cases.slow.payload, { signal: ac.signal, secret: cases.slow.secret });
        setTimeout(() => ac.abort(new Error('conformance abort')), 200);
        const result = await pending;
        expectResultShape(result);
        expect(result.status).toBe('failed');
      }, 15_000);
    }
  });
}
