/**
 * The demo scenario, step by step as the runbook describes it: bootstrap an org, create a pairing
 * token, run the runbook's `connect` command, publish a workflow whose nodes run on the agent
 * (`execution.mode: "node"`), run it and show its events.
 */
import { bootstrapOrganization } from '@vespid/example-api';
import type { Pool } from '@vespid/example-db';
import { ApiClient } from './api-client.js';

export interface DemoEvent {
  seq: number;
  type: string;
  nodeId: string | null;
  payload: Record<string, unknown>;
}

export interface Progress {
  step(text: string): void;
  detail(text: string): void;
}

/** Polls `fn` until it returns a value or `timeoutMs` passes. */
export async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function bootstrap(pool: Pool, apiUrl: string) {
  const owner = await bootstrapOrganization(pool, { orgName: 'Demo Org', email: `demo+${Date.now()}@vespid.test` });
  return { ...owner, api: new ApiClient(apiUrl, owner.accessToken, owner.orgId) };
}

export function sampleWorkflow(options: { serviceUrl: string; withSandbox: boolean; sandboxImage: string }) {
  const nodes: unknown[] = [
    {
      id: 'fetch-internal',
      type: 'connector.action',
      config: {
        connectorId: 'http',
        actionId: 'request',
        input: { method: 'GET', url: `${options.serviceUrl}/inventory` },
        execution: { mode: 'node', selector: { group: 'alpha' } },
      },
    },
  ];
  if (options.withSandbox) {
    nodes.push({
      id: 'sandboxed-script',
      type: 'agent.execute',
      config: {
        task: { type: 'shell', script: 'echo "hello from the sandbox"; id -u; ls -d /work; echo done > /work/out.txt; cat /work/out.txt' },
        sandbox: { timeoutMs: 20_000, docker: { image: options.sandboxImage } },
        execution: { mode: 'node' },
      },
    });
  }
  return { version: 1, trigger: { type: 'trigger.manual' }, nodes };
}

export async function runWorkflow(api: ApiClient, orgId: string, dsl: unknown, timeoutMs: number) {
  const wf = await api.call<{ id: string }>('POST', `/v1/orgs/${orgId}/workflows`, { name: 'demo: remote nodes', dsl });
  await api.call('POST', `/v1/orgs/${orgId}/workflows/${wf.id}/publish`);
  const run = await api.call<{ runId: string }>('POST', `/v1/orgs/${orgId}/workflows/${wf.id}/runs`, {});
  const status = await waitFor('the run to finish', timeoutMs, async () => {
    const r = await api.call<{ status: string }>('GET', `/v1/orgs/${orgId}/runs/${run.runId}`);
    return r.status === 'succeeded' || r.status === 'failed' ? r.status : undefined;
  });
  const { events } = await api.call<{ events: DemoEvent[] }>('GET', `/v1/orgs/${orgId}/runs/${run.runId}/events?limit=500`);
  return { workflowId: wf.id, runId: run.runId, status, events };
}

/** One line per event, e.g. `  3 node_dispatched   fetch-internal  requestId=…`. */
export function formatEvent(e: DemoEvent): string {
  const p = e.payload ?? {};
  const bits: string[] = [];
  if (typeof p.requestId === 'string') bits.push(`requestId=${p.requestId}`);
  if (typeof p.agentId === 'string') bits.push(`agent=${p.agentId.slice(0, 8)}`);
  const err = p.error as { code?: string } | undefined;
  if (err?.code) bits.push(`error=${err.code}`);
  const out = p.output as { status?: number; stdout?: string; exitCode?: number } | undefined;
  if (out && typeof out.status === 'number') bits.push(`http=${out.status}`);
  if (out && typeof out.stdout === 'string') bits.push(`stdout=${JSON.stringify(out.stdout.trim().slice(0, 60))}`);
  return `  ${String(e.seq).padStart(3)} ${e.type.padEnd(22)} ${(e.nodeId ?? '').padEnd(18)} ${bits.join(' ')}`.trimEnd();
}
