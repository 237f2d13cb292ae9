import type { Executor } from '@vespid/sdk-agent';

/** The benchmark node kind. */
export const NOOP_KIND = 'bench.noop';

/**
 * An executor that does nothing (optionally after `payload.sleepMs`, which the continuation benchmark
 * uses so results land at random moments relative to the polling schedule).
 */
export function noopExecutor(onRun?: (requestId: string, startedAt: number, endedAt: number) => void): Executor {
  return {
    kind: NOOP_KIND,
    async execute(task, ctx) {
      const startedAt = onRun ? Number(process.hrtime.bigint()) / 1e6 : 0;
      const sleepMs = (task.payload as { sleepMs?: unknown } | null)?.sleepMs;
      if (typeof sleepMs === 'number' && sleepMs > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(sleepMs, 30_000));
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      onRun?.(task.requestId, startedAt, Number(process.hrtime.bigint()) / 1e6);
      return { status: 'succeeded', output: { ok: true } };
    },
  };
}
