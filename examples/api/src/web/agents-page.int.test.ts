/**
 * The issue's definition of done, in Debian's Chromium: sign in, create a pairing token, RUN the shown
 * runbook command to pair a real node-agent against the real gateway host, see it online, edit its
 * tags, revoke it, see it revoked and the agent process exit with its "revoked" message. Api and
 * gateway share one Postgres schema and Redis (so the revocation reaches the live session).
 * Screenshots of the main states go to test-artifacts/agents-page/.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Pool, createPool, dropSchema } from '@vespid/example-db';
import type { Browser, BrowserContext, Page } from 'playwright-core';
// page.evaluate() takes expression strings here: this file is type-checked without the DOM library.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATABASE_URL, REDIS_URL, uniquePrefix } from '../../../../test/services.js';
// The gateway host is another example package; imported by path (a test-only edge, no package cycle).
import { type GatewayHost, startGatewayHost } from '../../../gateway/src/host.js';
import { Redis } from 'ioredis';
import { redisControlBus } from '../control-bus.js';
import { type ApiHost, startApiHost } from '../host.js';
import { inProcessRunQueue } from '../run-queue.js';
import { createApiLogger } from '../logger.js';
import { addMember, bootstrapOrganization } from '../users.js';
import { describeWithBrowser, launchChromium } from '../../test/web/browser-harness.js';
import { type AgentProc, ROOT, WIDE_ELEMENTS, capture, holdingServer, runShownCommand, until } from '../../test/web/e2e-support.js';

const SHOTS = join(ROOT, 'test-artifacts', 'agents-page');
const AGENT_NAME = 'web-e2e-agent';

await describeWithBrowser(['postgres', 'redis'], '/agents page in Chromium (api + gateway + real node-agent)', () => {
  const schema = uniquePrefix('web');
  const serviceToken = `svc_canary_${randomBytes(12).toString('hex')}`;
  const apiLogs: string[] = [];
  const gatewayLogs: string[] = [];
  const requests: string[] = [];
  let gateway: GatewayHost;
  let api: ApiHost;
  let pool: Pool;
  let redis: Redis | undefined;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let home: string;
  let agent: AgentProc | undefined;
  let org: { orgId: string; accessToken: string };

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const row = (status?: string) => page.locator(`tr[data-agent-id]${status ? `[data-status="${status}"]` : ''}`, { hasText: AGENT_NAME });
  const apiGet = async (path: string) => {
    const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${org.accessToken}`, 'x-org-id': org.orgId } });
    return (await res.json()) as any;
  };

  const slow = holdingServer();

  beforeAll(async () => {
    // Fresh directory: the screenshots always belong to this run.
    await rm(SHOTS, { recursive: true, force: true });
    await mkdir(SHOTS, { recursive: true });
    await slow.start();
    home = await mkdtemp(join(tmpdir(), 'vespid-web-'));
    const common = { DATABASE_URL, DATABASE_SCHEMA: schema, REDIS_URL, NODE_ENV: 'test' };
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
    gateway = await startGatewayHost(
      { ...common, GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '0', GATEWAY_SERVICE_TOKEN: serviceToken, GATEWAY_LOG_LEVEL: 'debug' },
      { logDestination: { write: (line: string) => void gatewayLogs.push(line) } },
    );
    api = await startApiHost(
      {
        ...common,
        API_HOST: '127.0.0.1',
        API_PORT: '0',
        SECRETS_KEK_ID: 'web-test',
        SECRETS_KEK_BASE64: randomBytes(32).toString('base64'),
        GATEWAY_WS_URL: gateway.wsUrl,
        GATEWAY_HTTP_URL: gateway.url,
        GATEWAY_SERVICE_TOKEN: serviceToken,
      },
      {
        logger: createApiLogger({ level: 'debug', destination: capture(apiLogs) }),
        // Revocations and tag edits travel on the real Redis `vespid:control` channel. Passing both
        // seams also keeps this host's rate-limit counters in memory: Redis-backed ones are shared per
        // client address (127.0.0.1) with every other api test on this machine.
        controlBus: redisControlBus(redis),
        runQueue: inProcessRunQueue(() => {}),
      },
    );
    pool = createPool(DATABASE_URL, { schema, max: 2 });
    // A long e-mail without break opportunities: the narrow layout must still not scroll sideways.
    org = await bootstrapOrganization(pool, { orgName: 'Acme Web', email: `${uniquePrefix('owner.with.a.long.name')}@example.test` });

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('request', (r) => void requests.push(r.url()));
    // Generous: two hosts, two migrations and a browser start on a 2-core machine shared with other suites.
  }, 180_000);

  afterAll(async () => {
    if (agent && agent.child.exitCode === null && agent.child.signalCode === null) {
      try {
        process.kill(-agent.child.pid!, 'SIGKILL');
      } catch {}
      await agent.exited;
    }
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await slow.close();
    await api?.close({ timeoutMs: 5000 });
    await gateway?.close({ timeoutMs: 5000 });
    await redis?.quit();
    if (pool) {
      await dropSchema(pool, schema);
      await pool.end();
    }
    if (home) await rm(home, { recursive: true, force: true });
  }, 60_000);

  it('signs in, pairs a real agent with the shown command, edits tags, revokes it, and the session closes', async () => {
    await page.goto(`${api.url}/agents`);

    // A wrong token is explained in words, not a bare code.
    await page.getByLabel('Access token').fill('not-a-real-token');
    await page.getByLabel('Access token').press('Enter');
    await page.getByRole('alert').filter({ hasText: 'Your access token was not accepted' }).waitFor();

    // Sign in with the keyboard (Enter submits); the token lives in sessionStorage only.
    await page.getByLabel('Access token').fill(org.accessToken);
    await page.getByLabel('Access token').press('Enter');
    await page.getByRole('heading', { name: 'Agents of Acme Web' }).waitFor();
    await page.getByText('No agents yet').waitFor();
    expect(await page.evaluate("[sessionStorage.getItem('vespid.accessToken'), localStorage.length, document.cookie]")).toEqual([
      org.accessToken,
      0,
      '',
    ]);
    await shot('01-signed-in');

    // Create a pairing token: shown once, with a countdown and the exact runbook command.
    await page.getByRole('button', { name: 'Create pairing token' }).click();
    await page
      .getByRole('region', { name: 'New pairing token' })
      .getByText(/expires in 1[45]:\d\d/)
      .waitFor();
    const pairingToken = await page.getByLabel('Pairing token', { exact: true }).inputValue();
    const command = await page.getByLabel('Run on the machine that will host the agent').inputValue();
    expect(pairingToken.startsWith(`${org.orgId}.`)).toBe(true);
    expect(command).toBe(`pnpm --filter @vespid/node-agent dev -- connect --pairing-token ${pairingToken} --api-base ${api.url}`);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: api.url });
    await page.getByRole('button', { name: 'Copy command' }).click();
    await page.getByText('Copied.').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(command);
    await shot('02-pairing-token');

    // Run it, as an operator would paste it (plus a temp config path and a name for the test).
    const configPath = join(home, 'agent.json');
    agent = runShownCommand(command, ['--config-path', configPath, '--name', AGENT_NAME], home);
    await row('online').waitFor({ timeout: 60_000 });
    const online = row('online');
    expect(await online.locator('.col-kinds').textContent()).toBe('connector.action, agent.execute');
    expect(await online.locator('.col-connectors').textContent()).toBe('http, github');
    expect(await online.locator('.col-max').textContent()).toBe('10');
    expect(await online.locator('.col-lastSeen').textContent()).toMatch(/just now|\d+ s ago/);
    // Keep the agent busy with a task held open by a local HTTP stub (dispatched like the worker does),
    // then "In flight now" must show what the gateway's live sessions report, and drop back on release.
    const dispatched = await fetch(`${gateway.url}/internal/v1/dispatch-async`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serviceToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        organizationId: org.orgId,
        requestId: `${uniquePrefix('run')}:node-1:1`,
        kind: 'connector.action',
        payload: { connectorId: 'http', actionId: 'request', input: { url: `${slow.url}/hold` } },
        timeoutMs: 30_000,
      }),
    });
    expect(dispatched.status).toBe(201);
    await slow.arrived;
    const busy = (await apiGet(`/v1/orgs/${org.orgId}/agents`)) as { live: string; agents: Array<{ live?: { inFlight: number } }> };
    const inFlightCell = online.locator('.col-inFlight');
    // The api merged the gateway's GET /internal/v1/sessions (GATEWAY_HTTP_URL + GATEWAY_SERVICE_TOKEN).
    expect(busy.live).toBe('gateway');
    expect(busy.agents[0]!.live?.inFlight).toBe(1);
    await inFlightCell.filter({ hasText: /^1$/ }).waitFor();
    await shot('03-agent-online-busy');
    slow.release();
    await inFlightCell.filter({ hasText: /^0$/ }).waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByLabel('Pairing token', { exact: true }).isVisible()).toBe(false);
    await shot('04-agent-online-idle');

    // Tags: Escape cancels and returns focus to the Edit button; Enter saves.
    await page.getByRole('button', { name: `Edit tags of ${AGENT_NAME}` }).click();
    const tagsInput = page.getByLabel(`Tags of ${AGENT_NAME} (comma-separated)`);
    await tagsInput.fill('discarded');
    await tagsInput.press('Escape');
    expect(await page.evaluate("document.activeElement?.getAttribute('aria-label')")).toBe(`Edit tags of ${AGENT_NAME}`);
    await page.keyboard.press('Enter'); // the focused Edit button opens the editor again
    // An invalid tag: the API's 400 is explained in words and the editor stays open.
    await tagsInput.fill('x'.repeat(200));
    await tagsInput.press('Enter');
    const rejected = await page.getByRole('alert').filter({ hasText: 'The API rejected the input.' }).textContent();
    expect(rejected).toMatch(/\(invalid request body: tags\.0: .+; BAD_REQUEST\)$/);
    await tagsInput.fill('east, group:alpha');
    await tagsInput.press('Enter');
    await row().locator('.col-tags .tags', { hasText: 'east, group:alpha' }).waitFor();
    expect(await page.getByRole('alert').isVisible()).toBe(false);
    const agentId = (await row().getAttribute('data-agent-id'))!;
    expect((await apiGet(`/v1/orgs/${org.orgId}/agents/${agentId}`)).tags).toEqual(['east', 'group:alpha']);
    await shot('05-tags-edited');

    // Revoke asks first; Escape cancels.
    await page.getByRole('button', { name: `Revoke ${AGENT_NAME}` }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke agent?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(`Revoke “${AGENT_NAME}”?`);
    await shot('06-revoke-confirm');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await row('online').count()).toBe(1);
    await page.getByRole('button', { name: `Revoke ${AGENT_NAME}` }).click();
    await dialog.getByRole('button', { name: 'Revoke agent' }).click();
    // Revoked agents leave the default list (they pile up otherwise); "Show revoked" brings them back.
    await row().waitFor({ state: 'detached' });
    await page.getByLabel('Show revoked').check();
    await row('revoked').waitFor();
    expect(await row('revoked').locator('.badge').textContent()).toBe('revoked');
    expect(await page.getByRole('button', { name: `Revoke ${AGENT_NAME}` }).isVisible()).toBe(false);

    // The live session closed: the agent process exits non-zero with its clear revoked line.
    const code = await agent.exited;
    expect(code).not.toBe(0);
    expect(agent.output()).toMatch(/4403 Revoked.*the agent has been revoked; pair the agent again/);
    expect((await apiGet(`/v1/orgs/${org.orgId}/agents/${agentId}`)).status).toBe('revoked');
    await shot('07-revoked');

    // Narrow screen: cards instead of a wide table, nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    // Polled: the media query applies on the next layout after the resize. (Not waitForFunction: its
    // polling evaluates strings inside the page, which the page's CSP rightly refuses.)
    await until(page, 'document.documentElement.scrollWidth <= window.innerWidth', WIDE_ELEMENTS);
    await shot('08-narrow');

    // A reload keeps the tab's session; sign-out forgets it.
    await page.reload();
    await page.getByLabel('Show revoked').check();
    await row('revoked').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Access token').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    // Nothing but this api was ever requested by the page.
    expect(requests.length).toBeGreaterThan(5);
    expect(requests.filter((u) => !u.startsWith(`${api.url}/`))).toEqual([]);

    // Secrets never reached a log line: access token, pairing token, agent token, service token.
    // (pnpm itself echoes the command line, pairing token included, before the agent starts; that
    // token is single-use and already spent, so only the agent's own lines are checked for it.)
    const saved = JSON.parse(await readFile(configPath, 'utf8')) as { agentToken: string };
    const secretOf = (t: string) => t.split('.').at(-1)!;
    const serverLogs = [...apiLogs, ...gatewayLogs].join('\n');
    const agentLines = agent
      .output()
      .split('\n')
      .filter((l) => !l.includes('tsx src/cli.ts'))
      .join('\n');
    expect(apiLogs.some((l) => l.includes('agent revoked'))).toBe(true);
    for (const [what, token] of Object.entries({
      accessToken: org.accessToken,
      pairingToken,
      agentToken: saved.agentToken,
      serviceToken,
    })) {
      expect(serverLogs.includes(secretOf(token)), `${what} in api/gateway logs`).toBe(false);
      expect(agentLines.includes(secretOf(token)), `${what} in agent output`).toBe(false);
    }
  }, 180_000);

  it('a member sees the list read-only, with the reason in words', async () => {
    const member = await addMember(pool, { organizationId: org.orgId, email: `${uniquePrefix('member')}@example.test`, role: 'member' });
    const memberContext = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    try {
      const memberPage = await memberContext.newPage();
      memberPage.setDefaultTimeout(20_000);
      await memberPage.goto(`${api.url}/agents`);
      await memberPage.getByLabel('Access token').fill(member.accessToken);
      await memberPage.getByRole('button', { name: 'Sign in' }).click();
      await memberPage.getByText('Your role is member').waitFor();
      await memberPage.getByLabel('Show revoked').check();
      await memberPage.locator('tr[data-agent-id]', { hasText: AGENT_NAME }).waitFor();
      expect(await memberPage.getByRole('button', { name: 'Create pairing token' }).isVisible()).toBe(false);
      expect(await memberPage.getByRole('button', { name: /^(Edit tags|Revoke) / }).count()).toBe(0);
      await memberPage.screenshot({ path: join(SHOTS, '09-member-read-only.png'), fullPage: true });
    } finally {
      await memberContext.close();
    }
  }, 60_000);
});
