import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Agent, createAgent } from './agent.js';
import { writeAgentConfig } from './config-file.js';
import type { Executor } from './executor.js';
import { capturingLogger, createFakeAgentGateway, type FakeAgentGateway } from './testing/index.js';
import { saveTokenToConfigFile } from './token-rotation.js';

const ORG = 'org-rot';
const OLD = `${ORG}.old_${'a'.repeat(24)}`;
const NEW = `${ORG}.new_${'b'.repeat(24)}`;
const echo: Executor = { kind: 'echo', execute: async (task) => ({ status: 'succeeded', output: task.payload }) };

let gw: FakeAgentGateway | undefined;
let agent: Agent | undefined;
afterEach(async () => {
  await agent?.close({ timeoutMs: 100 });
  await gw?.close();
  agent = gw = undefined;
});

describe('in-band token rotation (agent side)', () => {
  it('announces rotate_token only with persistToken; saves the new token to the config file (0600), acks, and reconnects with it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vespid-rot-'));
    const path = join(dir, 'agent.json');
    await writeAgentConfig(path, {
      agentId: 'a1',
      agentToken: OLD,
      organizationId: ORG,
      gatewayWsUrl: 'ws://127.0.0.1:1/ws',
      apiBase: 'http://127.0.0.1:1',
      name: 'rot',
      tags: [],
    });
    gw = await createFakeAgentGateway({ token: OLD, organizationId: ORG });
    const logger = capturingLogger();
    const rotated: unknown[] = [];
    agent = createAgent({
      gatewayWsUrl: gw.url,
      agentToken: OLD,
      name: 'rot',
      executors: [echo],
      logger,
      persistToken: saveTokenToConfigFile(path),
      reconnect: { initialDelayMs: 1, maxDelayMs: 5 },
    });
    agent.on('token.rotated', (e) => rotated.push(e));
    await agent.start();
    const session = await gw.nextSession();
    expect(session.hello.capabilities.features).toContain('rotate_token');

    session.send({ type: 'rotate_token', rotationId: 'rot-1', token: NEW });
    await expect
      .poll(() => session.frames.find((f) => f.type === 'rotate_token_ack'))
      .toEqual({ type: 'rotate_token_ack', rotationId: 'rot-1' });
    const saved = JSON.parse(await readFile(path, 'utf8'));
    expect(saved).toMatchObject({ agentId: 'a1', agentToken: NEW, name: 'rot' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(rotated).toEqual([{ rotationId: 'rot-1' }]);
    // The token in use is the new one: this fake gateway only knows the old one, so the reconnect is refused.
    gw.dropSessions(1012, 'restart');
    const stop = await agent.done;
    expect(stop.error?.code).toBe('UNAUTHORIZED');
    expect(logger.lines.join('\n')).not.toContain(NEW);
  });

  it('without persistToken the agent does not announce the feature; a failed save keeps the old token and acks with an error', async () => {
    gw = await createFakeAgentGateway({ token: OLD, organizationId: ORG });
    agent = createAgent({ gatewayWsUrl: gw.url, agentToken: OLD, name: 'plain', executors: [echo] });
    await agent.start();
    expect((await gw.nextSession()).hello.capabilities.features).not.toContain('rotate_token');
    await agent.close({ timeoutMs: 100 });
    await gw.close();

    gw = await createFakeAgentGateway({ token: OLD, organizationId: ORG });
    const logger = capturingLogger();
    agent = createAgent({
      gatewayWsUrl: gw.url,
      agentToken: OLD,
      name: 'failing',
      executors: [echo],
      logger,
      persistToken: async () => {
        throw Object.assign(new Error(`disk full while writing ${NEW}`), { code: 'ENOSPC' });
      },
      reconnect: { initialDelayMs: 1, maxDelayMs: 5 },
    });
    await agent.start();
    const s = await gw.nextSession();
    s.send({ type: 'rotate_token', rotationId: 'rot-2', token: NEW });
    await expect
      .poll(() => s.frames.find((f) => f.type === 'rotate_token_ack'))
      .toMatchObject({ rotationId: 'rot-2', error: { code: 'AGENT_CONFIG_INVALID' } });
    // Still on the old token: a reconnect is accepted.
    gw.dropSessions(1012, 'restart');
    const again = await gw.nextSession();
    expect(again.hello.name).toBe('failing');
    expect(logger.lines.join('\n')).not.toContain(NEW);
  });
});
