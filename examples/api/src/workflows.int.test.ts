import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../../../test/services.js';
import { type TestApi, startTestApi } from '../test/testing.js';

const dsl = {
  version: 1,
  trigger: { type: 'trigger.manual' },
  nodes: [
    {
      id: 'fetch',
      type: 'connector.action',
      config: { connectorId: 'http', actionId: 'request', input: { url: 'http://127.0.0.1:9/x' }, execution: { mode: 'node' } },
    },
    {
      id: 'shell',
      type: 'agent.execute',
      config: {
        task: { type: 'shell', script: 'echo hi' },
        sandbox: { network: 'none' },
        execution: { mode: 'node', selector: { group: 'alpha' } },
      },
    },
  ],
};

await describeWith(['postgres', 'redis'], 'api workflows and runs', () => {
  let api: TestApi;
  let org: { orgId: string; userId: string; accessToken: string };
  let other: { orgId: string; userId: string; accessToken: string };
  beforeAll(async () => {
    api = await startTestApi();
    org = await api.org('Flows');
    other = await api.org('Other');
  });
  afterAll(() => api?.close());

  const base = () => `/v1/orgs/${org.orgId}/workflows`;
  const create = (body: unknown) => api.call('POST', base(), { token: org.accessToken, body });

  it('rejects an invalid DSL with 400 INVALID_WORKFLOW and the zod issues', async () => {
    const bad = await create({
      name: 'bad',
      dsl: { ...dsl, nodes: [{ id: 'a', type: 'agent.execute', config: { task: { type: 'shell' }, execution: { mode: 'moon' } } }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_WORKFLOW');
    const paths = bad.body.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['nodes.0.config.task.script', 'nodes.0.config.execution.mode']));
    const dup = await create({ name: 'dup', dsl: { ...dsl, nodes: [dsl.nodes[0], dsl.nodes[0]] } });
    expect(dup.body).toMatchObject({ code: 'INVALID_WORKFLOW', message: expect.stringContaining('duplicate node id') });
    const trigger = await create({ name: 't', dsl: { ...dsl, trigger: { type: 'trigger.cron' } } });
    expect(trigger.body.code).toBe('INVALID_WORKFLOW');
  });

  it('refuses a connector.action node without connectorId at create and at publish (400 INVALID_WORKFLOW)', async () => {
    const noConnector = {
      ...dsl,
      nodes: [{ id: 'fetch', type: 'connector.action', config: { actionId: 'request', input: {}, execution: { mode: 'node' } } }],
    };
    const created = await create({ name: 'no-connector', dsl: noConnector });
    expect(created.status).toBe(400);
    expect(created.body.details.issues.map((i: { path: string }) => i.path)).toContain('nodes.0.config.connectorId');
    // A draft stored without validation (an older api, a manual edit) is still refused when published.
    const { rows } = await api.pool.query<{ id: string }>(
      'INSERT INTO workflows (organization_id, name, dsl) VALUES ($1, $2, $3) RETURNING id',
      [org.orgId, 'legacy', noConnector],
    );
    const published = await api.call('POST', `${base()}/${rows[0]!.id}/publish`, { token: org.accessToken });
    expect(published.status).toBe(400);
    expect(published.body.code).toBe('INVALID_WORKFLOW');
    expect(published.body.details.issues.map((i: { path: string }) => i.path)).toContain('nodes.0.config.connectorId');
  });

  it('creates, reads, publishes versions, and refuses to run an unpublished workflow', async () => {
    const created = await create({ name: 'flow', dsl });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'flow', dsl, latestVersion: null });
    const id = created.body.id as string;
    const run0 = await api.call('POST', `${base()}/${id}/runs`, { token: org.accessToken });
    expect(run0.status).toBe(409);
    const p1 = await api.call('POST', `${base()}/${id}/publish`, { token: org.accessToken });
    expect(p1.status).toBe(201);
    expect(p1.body).toMatchObject({ workflowId: id, version: 1 });
    const p2 = await api.call('POST', `${base()}/${id}/publish`, { token: org.accessToken });
    expect(p2.body.version).toBe(2);
    const got = await api.call('GET', `${base()}/${id}`, { token: org.accessToken });
    expect(got.body).toMatchObject({ id, latestVersion: 2, dsl });
    const list = await api.call('GET', base(), { token: org.accessToken });
    expect(list.body.workflows.map((w: { id: string }) => w.id)).toContain(id);
    const updated = await api.call('PUT', `${base()}/${id}`, { token: org.accessToken, body: { name: 'renamed' } });
    expect(updated.body).toMatchObject({ name: 'renamed', latestVersion: 2 });
  });

  it('creates a queued run with a run_queued event and enqueues {runId, organizationId} on workflow-runs', async () => {
    const id = (await create({ name: 'runnable', dsl })).body.id as string;
    await api.call('POST', `${base()}/${id}/publish`, { token: org.accessToken });
    const run = await api.call('POST', `${base()}/${id}/runs`, { token: org.accessToken, body: { input: { who: 'test' } } });
    expect(run.status).toBe(201);
    expect(run.body).toMatchObject({ runId: expect.any(String), workflowId: id, version: 1, status: 'queued' });
    const job = await api.runQueue.queue.getJob(run.body.runId);
    expect(job?.data).toEqual({ runId: run.body.runId, organizationId: org.orgId });
    expect(api.runQueue.queue.name).toBe('workflow-runs');

    const status = await api.call('GET', `/v1/orgs/${org.orgId}/runs/${run.body.runId}`, { token: org.accessToken });
    expect(status.body).toMatchObject({ id: run.body.runId, status: 'queued', input: { who: 'test' }, blocked: null, version: 1 });
    const nested = await api.call('GET', `${base()}/${id}/runs/${run.body.runId}`, { token: org.accessToken });
    expect(nested.body.id).toBe(run.body.runId);
    const events = await api.call('GET', `/v1/orgs/${org.orgId}/runs/${run.body.runId}/events`, { token: org.accessToken });
    expect(events.body.events).toEqual([expect.objectContaining({ seq: 1, type: 'run_queued', nodeId: null })]);
    const runs = await api.call('GET', `${base()}/${id}/runs`, { token: org.accessToken });
    expect(runs.body.runs.map((r: { id: string }) => r.id)).toEqual([run.body.runId]);
  });

  it('pages through events ordered by seq with ?after and ?limit', async () => {
    const id = (await create({ name: 'paged', dsl })).body.id as string;
    await api.call('POST', `${base()}/${id}/publish`, { token: org.accessToken });
    const runId = (await api.call('POST', `${base()}/${id}/runs`, { token: org.accessToken })).body.runId as string;
    // Events written out of order by a (simulated) worker still come back ordered by seq.
    for (const seq of [4, 2, 5, 3, 6]) {
      await api.pool.query(
        "INSERT INTO workflow_run_events (run_id, organization_id, seq, type, node_id, payload) VALUES ($1, $2, $3, 'node_started', 'fetch', '{}')",
        [runId, org.orgId, seq],
      );
    }
    const url = `/v1/orgs/${org.orgId}/runs/${runId}/events`;
    const seen: number[] = [];
    let after = 0;
    for (let page = 0; page < 10; page++) {
      const res = await api.call('GET', `${url}?after=${after}&limit=2`, { token: org.accessToken });
      expect(res.status).toBe(200);
      seen.push(...res.body.events.map((e: { seq: number }) => e.seq));
      after = res.body.nextAfter;
      if (!res.body.hasMore) break;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await api.call('GET', `${url}?limit=0`, { token: org.accessToken })).status).toBe(400);
    expect((await api.call('GET', `${url}?after=-1`, { token: org.accessToken })).status).toBe(400);
  });

  it('isolates tenants: another org gets 404 on our workflows and runs, 403 on our org path', async () => {
    const id = (await create({ name: 'private', dsl })).body.id as string;
    await api.call('POST', `${base()}/${id}/publish`, { token: org.accessToken });
    const runId = (await api.call('POST', `${base()}/${id}/runs`, { token: org.accessToken })).body.runId as string;
    const theirs = `/v1/orgs/${other.orgId}`;
    for (const [method, path] of [
      ['GET', `${theirs}/workflows/${id}`],
      ['POST', `${theirs}/workflows/${id}/publish`],
      ['POST', `${theirs}/workflows/${id}/runs`],
      ['GET', `${theirs}/runs/${runId}`],
      ['GET', `${theirs}/runs/${runId}/events`],
      ['GET', `${theirs}/workflows/${randomUUID()}`],
      ['GET', `${theirs}/workflows/not-a-uuid`],
    ] as const) {
      const res = await api.call(method, path, { token: other.accessToken });
      expect({ path, status: res.status, code: res.body.code }).toEqual({ path, status: 404, code: 'NOT_FOUND' });
    }
    expect((await api.call('GET', `${base()}/${id}`, { token: other.accessToken })).status).toBe(403);
    const count = await api.pool.query('SELECT count(*)::int AS n FROM workflow_runs WHERE workflow_id = $1', [id]);
    expect(count.rows[0].n).toBe(1);
  });
});
