/**
 * The fleet views of the /agents page in Debian's Chromium, on the real stack (api + gateway + worker
 * on real Postgres and Redis, a real node-agent paired with the command the page shows): a workflow
 * runs on the agent, its detail view shows the job running and then in its history with a duration,
 * the run view opens from there with the agent and durations per node; pausing the agent makes a new
 * run wait (queued) and resuming runs it. Under manual approval a newly paired agent shows pending
 * with Approve / Reject; approving gives it its tags, rejecting (confirmed) revokes it, and the audit
 * log of the agent lists what happened. A member sees it all without the pause, approve and reject
 * buttons or the audit log. Screenshots of each view go to test-artifacts/fleet-page/ (committed).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Pool, createPool, dropSchema } from '@vespid/example-db';
import { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page } from 'playwright-core';
// page.evaluate() takes expression strings here: this file is type-checked without the DOM library.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATABASE_URL, REDIS_URL, uniquePrefix } from '../../../../test/services.js';
// The gateway and worker hosts are other example packages; imported by path (test-only edges, no package cycle).
import { type GatewayHost, startGatewayHost } from '../../../gateway/src/host.js';
import { type WorkerHost, startWorkerHost } from '../../../worker/src/host.js';
import { redisControlBus } from '../control-bus.js';
import { type ApiHost, startApiHost } from '../host.js';
import { createApiLogger } from '../logger.js';
import { addMember, bootstrapOrganization } from '../users.js';
import { describeWithBrowser, launchChromium } from '../../test/web/browser-harness.js';
import { type AgentProc, ROOT, WIDE_ELEMENTS, capture, holdingServer, runShownCommand, until } from '../../test/web/e2e-support.js';

const SHOTS = join(ROOT, 'test-artifacts', 'fleet-page');
const AGENT_NAME = 'fleet-e2e-agent';

await describeWithBrowser(['postgres', 'redis'], 'fleet views in Chromium (api + gateway + worker + real node-agent)', () => {
  const schema = uniquePrefix('fleetweb');
  const serviceToken = `svc_canary_${randomBytes(12).toString('hex')}`;
  const apiLogs: string[] = [];
  const gatewayLogs: string[] = [];
  const requests: string[] = [];
  let gateway: GatewayHost;
  let worker: WorkerHost;
  let api: ApiHost;
  let pool: Pool;
  let redis: Redis | undefined;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let home: string;
  let agent: AgentProc | undefined;
  const extraAgents: AgentProc[] = [];
  let agentId = '';
  let org: { orgId: string; accessToken: string };
  const slow = holdingServer();

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const apiCall = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${org.accessToken}`,
        'x-org-id': org.orgId,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as any;
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  /** The command of the pairing panel, once the token arrived (the panel fills it after the API answers). */
  const shownCommand = async () => {
    await page
      .getByRole('region', { name: 'New pairing token' })
      .getByText(/expires in 1[45]:\d\d/)
      .waitFor();
    return page.getByLabel('Run on the machine that will host the agent').inputValue();
  };
  /** Publishes a one-node workflow that calls `path` on the local stub from this agent, and runs it. */
  const startRun = async (nodeId: string, url: string) => {
    const dsl = {
      version: 1,
      trigger: { type: 'trigger.manual' },
      nodes: [
        {
          id: nodeId,
          type: 'connector.action',
          config: {
            connectorId: 'http',
            actionId: 'request',
            input: { method: 'GET', url },
            execution: { mode: 'node', selector: { agentId } },
          },
        },
      ],
    };
    const wf = await apiCall('POST', `/v1/orgs/${org.orgId}/workflows`, { name: `wf-${nodeId}`, dsl });
    await apiCall('POST', `/v1/orgs/${org.orgId}/workflows/${wf.id}/publish`);
    return (await apiCall('POST', `/v1/orgs/${org.orgId}/workflows/${wf.id}/runs`, {})).runId as string;
  };

  beforeAll(async () => {
    await rm(SHOTS, { recursive: true, force: true });
    await mkdir(SHOTS, { recursive: true });
    await slow.start();
    home = await mkdtemp(join(tmpdir(), 'vespid-fleet-web-'));
    const common = { DATABASE_URL, DATABASE_SCHEMA: schema, REDIS_URL, NODE_ENV: 'test' };
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
    gateway = await startGatewayHost(
      { ...common, GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '0', GATEWAY_SERVICE_TOKEN: serviceToken },
      { logDestination: { write: (line: string) => void gatewayLogs.push(line) } },
    );
    worker = await startWorkerHost({
      env: {
        ...common,
        GATEWAY_HTTP_URL: gateway.url,
        GATEWAY_SERVICE_TOKEN: serviceToken,
        // A run for the paused agent waits in the gateway's queue, far longer than this test waits.
        WORKFLOW_NODE_QUEUE_TIMEOUT_MS: '120000',
        NODE_EXEC_TIMEOUT_MS: '60000',
      },
      bullPrefix: uniquePrefix('bull'),
    });
    api = await startApiHost(
      {
        ...common,
        API_HOST: '127.0.0.1',
        API_PORT: '0',
        SECRETS_KEK_ID: 'fleet-web',
        SECRETS_KEK_BASE64: randomBytes(32).toString('base64'),
        GATEWAY_WS_URL: gateway.wsUrl,
        GATEWAY_HTTP_URL: gateway.url,
        GATEWAY_SERVICE_TOKEN: serviceToken,
      },
      {
        logger: createApiLogger({ level: 'debug', destination: capture(apiLogs) }),
        // Pause and resume travel on the real Redis `vespid:control` channel to the gateway.
        controlBus: redisControlBus(redis),
        runQueue: { enqueue: (job: { runId: string; organizationId: string }) => worker.runQueue.enqueue(job) },
      },
    );
    pool = createPool(DATABASE_URL, { schema, max: 2 });
    org = await bootstrapOrganization(pool, { orgName: 'Fleet Web', email: `${uniquePrefix('owner')}@example.test` });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on('request', (r) => void requests.push(r.url()));
  }, 180_000);

  afterAll(async () => {
    for (const a of [agent, ...extraAgents]) {
      if (a && a.child.exitCode === null && a.child.signalCode === null) {
        try {
          process.kill(-a.child.pid!, 'SIGKILL');
        } catch {}
        await a.exited;
      }
    }
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await slow.close();
    await api?.close({ timeoutMs: 5000 });
    await worker?.close({ timeoutMs: 5000 });
    await gateway?.close({ timeoutMs: 5000 });
    await redis?.quit();
    if (pool) {
      await dropSchema(pool, schema);
      await pool.end();
    }
    if (home) await rm(home, { recursive: true, force: true });
  }, 60_000);

  it('pairs, runs, shows the job and its run with durations, pauses (a run waits), resumes (it runs)', async () => {
    await page.goto(`${api.url}/agents`);
    await page.getByLabel('Access token').fill(org.accessToken);
    await page.getByLabel('Access token').press('Enter');
    await page.getByRole('heading', { name: 'Agents of Fleet Web' }).waitFor();

    // Pair with the command the page shows.
    await page.getByRole('button', { name: 'Create pairing token' }).click();
    const command = await shownCommand();
    const configPath = join(home, 'agent.json');
    agent = runShownCommand(command, ['--config-path', configPath, '--name', AGENT_NAME], home);
    const row = page.locator('tr[data-agent-id][data-status="online"]', { hasText: AGENT_NAME });
    await row.waitFor({ timeout: 60_000 });
    agentId = (await row.getAttribute('data-agent-id'))!;
    await page.getByRole('button', { name: 'Done' }).click();

    // The list's filters: search and status narrow the list, with the reason in words when empty.
    await page.getByLabel('Search').fill('fleet-e2e');
    await until(page, `document.querySelectorAll('tr[data-agent-id]').length === 1`);
    await page.getByLabel('Search').fill('no-such-agent');
    await page.getByText('No agent matches these filters.').waitFor();
    await page.getByLabel('Search').fill('');
    await page.getByLabel('Status').selectOption('online');
    await row.waitFor();
    await shot('01-list-filtered');

    // A run that the agent is busy with: the detail view shows it running, linking to the run.
    const firstRun = await startRun('fetch', `${slow.url}/hold`);
    await slow.arrived;
    await row.getByRole('link', { name: AGENT_NAME }).click();
    const detail = page.locator('#agent-view');
    await detail.getByRole('heading', { name: AGENT_NAME }).waitFor();
    const running = detail.locator(`#agent-current-body tr`);
    await running.getByRole('link', { name: `Run ${firstRun}` }).waitFor();
    expect(await running.locator('td[data-label="Node"]').textContent()).toBe('fetch');
    expect(await detail.locator('#agent-facts').textContent()).toContain('127.0.0.1');
    await shot('02-agent-running-job');

    // Released: it moves to the history with its durations.
    slow.release();
    const job = detail.locator(`#agent-history-body tr[data-run-id="${firstRun}"]`);
    await job.waitFor();
    expect(await job.locator('td[data-label="Status"]').textContent()).toBe('succeeded');
    expect(await job.locator('td[data-label="Total"]').textContent()).toMatch(/^\d+(\.\d)? (ms|s)$/);
    expect(await job.locator('td[data-label="Executing"]').textContent()).toMatch(/^\d+(\.\d)? (ms|s)$/);
    expect(await detail.locator('#agent-current-empty').textContent()).toBe('Nothing running now.');
    await shot('03-agent-history');

    // Open the run from the history: its node, the agent that ran it and the durations.
    await job.getByRole('link', { name: `Run ${firstRun}` }).click();
    const runView = page.locator('#run-view');
    await page.waitForURL(`**/agents#/runs/${firstRun}`);
    const node = runView.locator('tr[data-node-id="fetch"]');
    await node.locator('td[data-label="Status"]', { hasText: 'succeeded' }).waitFor();
    expect(await node.locator('td[data-label="Agent"]').textContent()).toBe(AGENT_NAME);
    expect(await node.locator('td[data-label="Total"]').textContent()).not.toBe('—');
    expect(await node.locator('td[data-label="Attempts"]').textContent()).toBe('1');
    await shot('04-run-view');

    // Back to the agent by its link, pause it with the keyboard.
    await node.getByRole('link', { name: `Agent ${AGENT_NAME}` }).click();
    const pause = detail.getByRole('button', { name: `Pause ${AGENT_NAME}` });
    await pause.focus();
    await page.keyboard.press('Enter');
    await detail.getByRole('button', { name: `Resume ${AGENT_NAME}` }).waitFor();
    await detail.locator('.badge-paused').waitFor();
    expect((await apiCall('GET', `/v1/orgs/${org.orgId}/agents/${agentId}`)).paused).toBe(true);
    await shot('05-agent-paused');

    // A new run for it waits in the queue, and the run view says so.
    const waitingRun = await startRun('after-pause', `${slow.url}/after`);
    await page.goto(`${api.url}/agents#/runs/${waitingRun}`);
    const waitingNode = runView.locator('tr[data-node-id="after-pause"]');
    await waitingNode.locator('td[data-label="Status"]', { hasText: 'queued' }).waitFor();
    expect(await waitingNode.locator('td[data-label="Agent"]').textContent()).toBe('waiting for an agent');
    await shot('06-run-waiting-while-paused');

    // Resume: the waiting run gets the agent and finishes.
    await page.goto(`${api.url}/agents#/agents/${agentId}`);
    await detail.getByRole('button', { name: `Resume ${AGENT_NAME}` }).click();
    await detail.getByRole('button', { name: `Pause ${AGENT_NAME}` }).waitFor();
    await detail.locator(`#agent-history-body tr[data-run-id="${waitingRun}"]`).waitFor();
    await page.goto(`${api.url}/agents#/runs/${waitingRun}`);
    await waitingNode.locator('td[data-label="Status"]', { hasText: 'succeeded' }).waitFor();
    expect(await waitingNode.locator('td[data-label="Agent"]').textContent()).toBe(AGENT_NAME);
    // It waited for the resume: the queued time is shown, not a dash.
    expect(await waitingNode.locator('td[data-label="Queued"]').textContent()).not.toBe('—');
    await shot('07-run-after-resume');

    // Narrow screen: the detail view's tables become cards; nothing scrolls sideways.
    await page.goto(`${api.url}/agents#/agents/${agentId}`);
    await detail.getByRole('heading', { name: AGENT_NAME }).waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await until(page, 'document.documentElement.scrollWidth <= window.innerWidth', WIDE_ELEMENTS);
    await shot('08-agent-narrow');
    await page.setViewportSize({ width: 1360, height: 900 });

    // The pause and resume are recorded, with who did it.
    const { rows } = await pool.query<{ type: string }>('SELECT type FROM agent_events WHERE agent_id = $1 ORDER BY id', [agentId]);
    expect(rows.map((r) => r.type)).toEqual(['agent_paused', 'agent_resumed']);
    // Nothing but this api was requested by the page; no agent token in any answer the page got.
    expect(requests.filter((u) => !u.startsWith(`${api.url}/`))).toEqual([]);
    const saved = JSON.parse(await readFile(configPath, 'utf8')) as { agentToken: string };
    const agentSecret = saved.agentToken.split('.').at(-1)!;
    expect(await page.content()).not.toContain(agentSecret);
    expect([...apiLogs, ...gatewayLogs].join('\n')).not.toContain(agentSecret);
    expect(gatewayLogs.some((l) => l.includes('agent paused by control plane'))).toBe(true);
  }, 240_000);

  it('manual approval: a new agent shows pending; Approve grants its tags, Reject revokes; the audit log tells it', async () => {
    expect(await apiCall('PATCH', `/v1/orgs/${org.orgId}/settings`, { agentApproval: 'manual' })).toEqual({ agentApproval: 'manual' });
    const detail = page.locator('#agent-view');
    const pairShown = async (name: string) => {
      await page.goto(`${api.url}/agents#/`);
      await page.getByRole('button', { name: 'Create pairing token' }).click();
      const command = await shownCommand();
      const proc = runShownCommand(command, ['--config-path', join(home, `${name}.json`), '--name', name, '--tags', 'gpu'], home);
      extraAgents.push(proc);
      const row = page.locator('tr[data-agent-id][data-status="online"]', { hasText: name });
      await row.waitFor({ timeout: 60_000 });
      await row.locator('.badge-pending').waitFor();
      await page.getByRole('button', { name: 'Done' }).click();
      const id = (await row.getAttribute('data-agent-id'))!;
      await row.getByRole('link', { name }).click();
      await detail.getByRole('heading', { name }).waitFor();
      return id;
    };

    const approvedId = await pairShown('approve-e2e-agent');
    await detail.locator('#agent-pending-note').waitFor();
    expect(await detail.locator('#agent-facts').textContent()).toContain('asked for tags gpu');
    expect(await detail.getByRole('button', { name: /^(Pause|Resume) / }).count()).toBe(0);
    await shot('10-agent-pending-approval');
    await detail.getByRole('button', { name: 'Approve approve-e2e-agent' }).click();
    await until(page, `document.querySelector('#agent-view').dataset.approval === 'approved'`);
    await detail.getByRole('button', { name: 'Pause approve-e2e-agent' }).waitFor();
    expect((await apiCall('GET', `/v1/orgs/${org.orgId}/agents/${approvedId}`)).tags).toEqual(['gpu']);
    const audit = detail.locator('#agent-audit-body tr');
    await detail.locator('#agent-audit-body tr[data-audit-type="agent.approved"]').waitFor();
    expect(await audit.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-audit-type')))).toEqual([
      'agent.approved',
      'agent.paired',
      'pairing_token.used',
    ]);
    expect(await audit.first().locator('td[data-label="By"]').textContent()).toContain('@example.test');
    expect(await audit.first().locator('td[data-label="Address"]').textContent()).toBe('127.0.0.1');
    await shot('11-agent-approved-audit-log');

    const rejectedId = await pairShown('reject-e2e-agent');
    page.once('dialog', (d) => void d.accept());
    await detail.getByRole('button', { name: 'Reject reject-e2e-agent' }).click();
    await until(page, `document.querySelector('#agent-view').dataset.status === 'revoked'`);
    await detail.locator('#agent-audit-body tr[data-audit-type="agent.rejected"]').waitFor();
    expect((await apiCall('GET', `/v1/orgs/${org.orgId}/agents/${rejectedId}`)).approval).toBe('rejected');
    // Rejected means revoked: the agent process is told (4403) and stops.
    await extraAgents.at(-1)!.exited;
    await shot('12-agent-rejected');
  }, 180_000);

  it('a member sees the agent, its jobs and runs read-only (no pause button)', async () => {
    const member = await addMember(pool, { organizationId: org.orgId, email: `${uniquePrefix('member')}@example.test`, role: 'member' });
    const memberContext = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    try {
      const memberPage = await memberContext.newPage();
      memberPage.setDefaultTimeout(20_000);
      await memberPage.goto(`${api.url}/agents`);
      await memberPage.getByLabel('Access token').fill(member.accessToken);
      await memberPage.getByRole('button', { name: 'Sign in' }).click();
      await memberPage.getByText('Your role is member').waitFor();
      await memberPage.locator('tr[data-agent-id]', { hasText: AGENT_NAME }).getByRole('link', { name: AGENT_NAME }).click();
      await memberPage.locator('#agent-history-body tr').first().waitFor();
      expect(await memberPage.getByRole('button', { name: /^(Pause|Resume|Approve|Reject) / }).count()).toBe(0);
      await memberPage.getByText('Only owners and admins see the audit log.').waitFor();
      await memberPage.screenshot({ path: join(SHOTS, '09-member-agent-read-only.png'), fullPage: true });
    } finally {
      await memberContext.close();
    }
  }, 60_000);
});
