/**
 * Child side of the parent ⇄ child protocol: the parent sends `{id, cmd, args}` over the IPC channel,
 * the child answers `{id, ok, result | error}`. A child exits when its parent goes away, so a crashed
 * or interrupted run never leaves load generators, gateways or agents behind.
 */
export type Handler = (args: Record<string, unknown>) => unknown;

interface Request {
  id: number;
  cmd: string;
  args?: Record<string, unknown>;
}

/** Serves `handlers` on the IPC channel and tells the parent it is ready with `info`. */
export function serve(handlers: Record<string, Handler>, info: Record<string, unknown> = {}): void {
  if (!process.send) throw new Error('bench child started without an IPC channel');
  const send = (m: unknown) => process.send?.(m);
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (raw) => {
    const m = raw as Request;
    if (typeof m?.id !== 'number' || typeof m.cmd !== 'string') return;
    const h = handlers[m.cmd];
    if (!h) {
      send({ id: m.id, ok: false, error: `unknown command ${m.cmd}` });
      return;
    }
    try {
      send({ id: m.id, ok: true, result: await h(m.args ?? {}) });
    } catch (err) {
      send({ id: m.id, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    }
  });
  send({ ready: true, ...info });
}

/** Reads a numeric argument with a default. */
export const num = (args: Record<string, unknown>, key: string, fallback: number): number =>
  typeof args[key] === 'number' ? (args[key] as number) : fallback;

/** Reads a string argument with a default. */
export const str = (args: Record<string, unknown>, key: string, fallback = ''): string =>
  typeof args[key] === 'string' ? (args[key] as string) : fallback;

/** Monotonic clock in ms with µs resolution. CLOCK_MONOTONIC is system-wide on Linux, so values are comparable across processes. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;
