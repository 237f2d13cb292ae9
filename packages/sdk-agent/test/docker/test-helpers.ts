/** Shared fixtures for the sandbox tests (not exported from the package entry). */
import type { Logger } from '@vespid/protocol';
import type { ExecutorContext, ExecutorTask } from '../../src/executor.js';

export const BUSYBOX = 'vespid/sandbox-busybox:test';
export const NODE_IMAGE = 'vespid/sandbox-node:test';

/** The uid scripts run as by default: nobody when the agent is root, else the agent's own (never 0). */
export const SANDBOX_UID = process.getuid?.() === 0 || process.getuid === undefined ? 65534 : process.getuid();

/** A logger that keeps every call as a JSON line, to check that no secret reaches it. */
export function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const rec = (level: string) => (obj: object, msg?: string) => {
    lines.push(JSON.stringify({ level, ...obj, msg }));
  };
  const logger: Logger & { lines: string[] } = {
    lines,
    debug: rec('debug'),
    info: rec('info'),
    warn: rec('warn'),
    error: rec('error'),
    child: () => logger,
  };
  return logger;
}

let seq = 0;

/** A task for the executor; `requestId` follows `runId:nodeId:attempt`. */
export function task(payload: unknown, over: Partial<ExecutorTask> = {}): ExecutorTask {
  seq++;
  return {
    requestId: `run${seq}-${Date.now().toString(36)}:node1:0`,
    organizationId: 'org1',
    kind: 'agent.execute',
    payload,
    timeoutMs: 60_000,
    ...over,
  };
}

/** An executor context whose signal the test may abort. */
export function context(logger: Logger, controller = new AbortController(), timeoutMs = 60_000): ExecutorContext {
  return { signal: controller.signal, logger, deadline: Date.now() + timeoutMs };
}

/** A shell task payload. */
export function shell(script: string, sandbox?: Record<string, unknown>, extra?: Record<string, unknown>): unknown {
  return { task: { type: 'shell', script }, ...(sandbox ? { sandbox } : {}), ...extra };
}
