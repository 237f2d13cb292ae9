/**
 * The HTTP service the agents' `connector.action` nodes call: counts hits per path (a node executed
 * twice shows up as two hits), can hold responses (`?delay=ms`, or `?hold=1` until `release()`) so nodes
 * are in flight when a fault hits, and records the Authorization headers it saw (where a planted secret
 * must arrive).
 */
import { createServer, type Server } from 'node:http';

export interface Target {
  url: string;
  hits: Map<string, number>;
  authorizations: string[];
  /** Requests received but not yet answered. */
  pending(): number;
  /** Answers every `?hold=1` request held so far, and from now on answers them at once. */
  release(): void;
  close(): Promise<void>;
}

export async function startTarget(): Promise<Target> {
  const hits = new Map<string, number>();
  const authorizations: string[] = [];
  let pending = 0;
  const timers = new Set<NodeJS.Timeout>();
  const held = new Set<() => void>();
  let released = false;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    if (req.headers.authorization) authorizations.push(req.headers.authorization);
    const delay = Math.min(Number(url.searchParams.get('delay') ?? 0), 30_000);
    pending++;
    const answer = () => {
      pending--;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, path: url.pathname }));
    };
    if (url.searchParams.get('hold') === '1' && !released) {
      // Held until release(): how long a node stays in flight is up to the test, not the machine's load.
      held.add(answer);
      return;
    }
    const t = setTimeout(() => {
      timers.delete(t);
      answer();
    }, delay);
    timers.add(t);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    hits,
    authorizations,
    pending: () => pending,
    release() {
      released = true;
      for (const answer of held) answer();
      held.clear();
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      held.clear();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A node-mode http connector node calling the target. */
export function httpNode(
  id: string,
  targetUrl: string,
  path: string,
  extra: { delayMs?: number; hold?: boolean; selector?: Record<string, string>; secretId?: string } = {},
) {
  return {
    id,
    type: 'connector.action',
    config: {
      connectorId: 'http',
      actionId: 'request',
      input: { method: 'GET', url: `${targetUrl}/${path}${extra.hold ? '?hold=1' : extra.delayMs ? `?delay=${extra.delayMs}` : ''}` },
      execution: { mode: 'node', ...(extra.selector ? { selector: extra.selector } : {}) },
      ...(extra.secretId ? { auth: { secretId: extra.secretId } } : {}),
    },
  };
}
