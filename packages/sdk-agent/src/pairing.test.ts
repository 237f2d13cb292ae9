import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAgentConfig, writeAgentConfig } from './config-file.js';
import { pairAgent } from './pairing.js';
import { localServer } from './test-http-server.js';

const PAIRING = 'org-1.pair_canary_0123456789abcdef';
const AGENT_TOKEN = 'org-1.agent_canary_0123456789abcdef';

describe('pairAgent against a stub control plane', () => {
  let srv: Awaited<ReturnType<typeof localServer>>;
  const bodies: unknown[] = [];
  beforeAll(async () => {
    srv = await localServer((req, body, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.method !== 'POST' || req.url !== '/v1/agents/pair') {
        res.statusCode = 404;
        return res.end('{"code":"NOT_FOUND","message":"no route"}');
      }
      const b = JSON.parse(body);
      bodies.push(b);
      if (b.pairingToken === 'org-1.rate_limited_0123456789') {
        res.statusCode = 429;
        return res.end(JSON.stringify({ code: 'RATE_LIMITED', message: 'slow down' }));
      }
      if (b.pairingToken !== PAIRING) {
        res.statusCode = 401;
        return res.end(JSON.stringify({ code: 'PAIRING_TOKEN_INVALID', message: 'pairing token unknown, expired or used' }));
      }
      res.statusCode = 201;
      res.end(JSON.stringify({ agentId: 'a-1', agentToken: AGENT_TOKEN, organizationId: 'org-1', gatewayWsUrl: 'ws://127.0.0.1:3002/ws' }));
    });
  });
  afterAll(() => srv.close());

  it('exchanges the pairing token for credentials', async () => {
    const creds = await pairAgent({ pairingToken: PAIRING, apiBase: srv.url, name: 'edge-1', tags: ['east', 'group:alpha'] });
    expect(creds).toEqual({ agentId: 'a-1', agentToken: AGENT_TOKEN, organizationId: 'org-1', gatewayWsUrl: 'ws://127.0.0.1:3002/ws' });
    expect(bodies.at(-1)).toEqual({ pairingToken: PAIRING, name: 'edge-1', tags: ['east', 'group:alpha'] });
  });

  it('keeps the control plane code and never echoes the token', async () => {
    const wrong = 'org-1.wrong_canary_0123456789abcdef';
    const err = await pairAgent({ pairingToken: wrong, apiBase: srv.url, name: 'edge-1' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PAIRING_TOKEN_INVALID', retryable: false, httpStatus: 401 });
    expect(String((err as Error).message)).not.toContain('wrong_canary');
    const limited = await pairAgent({ pairingToken: 'org-1.rate_limited_0123456789', apiBase: srv.url, name: 'e' }).catch(
      (e: unknown) => e,
    );
    expect(limited).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
  });

  it('reports an unreachable control plane', async () => {
    const err = await pairAgent({ pairingToken: PAIRING, apiBase: 'http://127.0.0.1:1', name: 'e' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'GATEWAY_UNAVAILABLE', retryable: true });
    expect(String((err as Error).message)).toMatch(/cannot reach the control plane/);
  });
});

describe('agent config file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vespid-cfg-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const config = {
    agentId: 'a-1',
    agentToken: AGENT_TOKEN,
    organizationId: 'org-1',
    gatewayWsUrl: 'ws://127.0.0.1:3002/ws',
    apiBase: 'http://localhost:3001',
    name: 'edge-1',
    tags: ['east'],
  };

  it('is written 0600 in a 0700 directory, atomically, and reads back', async () => {
    const path = join(dir, 'nested', '.vespid', 'agent.json');
    await writeAgentConfig(path, config);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'nested', '.vespid'))).mode & 0o777).toBe(0o700);
    expect(await readAgentConfig(path)).toEqual(config);
    // Overwrite keeps the mode and leaves no temp files behind.
    await writeAgentConfig(path, { ...config, name: 'edge-2' });
    expect((await readAgentConfig(path)).name).toBe('edge-2');
    expect(await readdir(join(dir, 'nested', '.vespid'))).toEqual(['agent.json']);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('tightens an existing loose file and directory', async () => {
    const sub = join(dir, 'loose');
    const path = join(sub, 'agent.json');
    await writeAgentConfig(path, config);
    const { chmod } = await import('node:fs/promises');
    await chmod(sub, 0o755);
    await chmod(path, 0o644);
    await writeAgentConfig(path, config);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(sub)).mode & 0o777).toBe(0o700);
  });

  it('explains a missing or invalid file without printing the token', async () => {
    await expect(readAgentConfig(join(dir, 'missing.json'))).rejects.toMatchObject({
      code: 'AGENT_CONFIG_INVALID',
      message: /run `connect/,
    });
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ ...config, gatewayWsUrl: 'not a url' }));
    const err = (await readAgentConfig(bad).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/gatewayWsUrl/);
    expect(err.message).not.toContain('agent_canary');
  });
});
