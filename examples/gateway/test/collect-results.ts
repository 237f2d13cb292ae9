/**
 * The end of a cluster load test: waits until every request has a stored result, read through the
 * internal API of the live replicas. Like sdk-dispatch, a request still without a result is repeated
 * (same requestId) every 2 s: in flight → nothing happens; routed by a dead replica → a live one adopts it.
 */
import { waitFor } from '../../../test/support/wait-for.js';
import { callReplica } from './replica-process.js';

export interface CollectedResult {
  status: string;
  output?: { hadSecret?: boolean; agentId?: string };
  error?: { code: string };
}

export async function collectResults(options: {
  bodies: Map<string, object>;
  /** The replicas to read from and repeat to (taken in turn). */
  replicas: Array<{ url: string }>;
  serviceToken: string;
  timeoutMs: number;
}): Promise<Map<string, CollectedResult>> {
  const { bodies, replicas, serviceToken } = options;
  const ids = [...bodies.keys()];
  const results = new Map<string, CollectedResult>();
  let lastRepeat = Date.now();
  let pass = 0;
  await waitFor(
    async () => {
      const repeat = Date.now() - lastRepeat > 2000;
      if (repeat) lastRepeat = Date.now();
      const r = replicas[pass++ % replicas.length]!;
      for (const id of ids) {
        if (results.has(id)) continue;
        const res = await callReplica(r, serviceToken, 'GET', `/internal/v1/results/${encodeURIComponent(id)}`);
        if (res.status === 200) results.set(id, res.body);
        else if (repeat) await callReplica(r, serviceToken, 'POST', '/internal/v1/dispatch-async', bodies.get(id));
      }
      return results.size === ids.length;
    },
    {
      what: 'a result for every dispatch',
      timeoutMs: options.timeoutMs,
      intervalMs: 100,
      detail: () => `${ids.length - results.size} missing`,
    },
  );
  return results;
}
