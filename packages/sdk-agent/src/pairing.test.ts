import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAgentConfig, writeAgentConfig } from './config-file.js';
import { deregisterAgent, pairAgent } from './pairing.js';
import { makeTestPki } from '../test/test-tls.js';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { localServer } from '../test/test-http-server.js';

const PAIRING = 'org-1.pair_canary_0123456789abcdef';
const AGENT_TOKEN = 'org-1.agent_canary_0123456789abcdef';

describe('pairAgent against a stub control plane', () => {
  let srv: Awaited<ReturnType<typeof localServer>>;
  const bodies: unknown[] = [];
  beforeAll(async () => {
    srv = await localServer((req, body, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST' && req.url === '/v1/agents/deregister') {
        const auth = req.headers.authorization;
        if (auth === `Bearer ${AGENT_TOKEN}`) return res.end(JSON.stringify({ agentId: 'a-1', status: 'revoked' }));
        res.statusCode = auth === 'Bearer org-1.revoked_0123456789abcdef' ? 403 : 401;
        return res.end(JSON.stringify({ code: 'UNAUTHORIZED', message: 'no' }));
      }
      if (req.method !== 'POST' || req.url !== '/v1/agents/pair') {
        res.statusCode = 404;
        return res.end('{"code":"NOT_FOUND","message":"no route"}');
      }
      const b = JSON.parse(body);
      bodies.push(b);
      if (b.pairingToken === 'org-1.expired_0123456789abcdef') {
        res.statusCode = 400;
        return res.end(JSON.stringify({ code: 'PAIRING_TOKEN_EXPIRED', message: 'pairing token expired' }));
      }
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
    expect(err).toMatchObject({
      code: 'CONTROL_PLANE_UNREACHABLE',
      retryable: true,
      details: { hint: expect.stringMatching(/control plane/) },
    });
    expect(String((err as Error).message)).toMatch(/cannot reach the control plane/);
  });
  it('names a timeout as TimeoutError, not a numeric DOMException code', async () => {
    const silent = await localServer(() => {});
    try {
      const err = await pairAgent({ pairingToken: PAIRING, apiBase: silent.url, name: 'e', timeoutMs: 200 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'CONTROL_PLANE_UNREACHABLE' });
      expect(String((err as Error).message)).toMatch(/cannot reach the control plane at http:\/\/127\.0\.0\.1:\d+ \(TimeoutError\)$/);
    } finally {
      await silent.close();
    }
  });

  it('hints at a new token for a used (401) or expired (400) pairing token', async () => {
    for (const [token, code] of [
      ['org-1.used_canary_0123456789abcdef', 'PAIRING_TOKEN_INVALID'],
      ['org-1.expired_0123456789abcdef', 'PAIRING_TOKEN_EXPIRED'],
    ] as const) {
      const err = await pairAgent({ pairingToken: token, apiBase: srv.url, name: 'e' }).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code,
        retryable: false,
        details: { hint: expect.stringMatching(/create a new one on the \/agents page/) },
      });
    }
  });

  it('says --api-base must be the control plane when nothing answers the pairing route (404, e.g. the gateway)', async () => {
    const err = await pairAgent({ pairingToken: PAIRING, apiBase: `${srv.url}/not-the-api`, name: 'e' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AGENT_CONFIG_INVALID', httpStatus: 404 });
    expect((err as { details: { hint: string } }).details.hint).toMatch(/--api-base must be the control plane .*not the gateway/);
  });

  it('deregisterAgent revokes with the agent token and treats an already revoked or unknown token as done', async () => {
    expect(await deregisterAgent({ apiBase: srv.url, agentToken: AGENT_TOKEN })).toEqual({ agentId: 'a-1', alreadyGone: false });
    expect(await deregisterAgent({ apiBase: srv.url, agentToken: 'org-1.revoked_0123456789abcdef' })).toEqual({ alreadyGone: true });
    const err = await deregisterAgent({ apiBase: 'http://127.0.0.1:1', agentToken: AGENT_TOKEN }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONTROL_PLANE_UNREACHABLE' });
    expect(String((err as Error).message)).not.toContain('agent_canary');
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

describe('pairAgent: http/https mismatches are blamed on the control plane URL', () => {
  it('https:// against a plain HTTP control plane says it does not speak TLS', async () => {
    const srv = await localServer((_req, _body, res) => res.end('{}'));
    try {
      const apiBase = srv.url.replace('http:', 'https:');
      const err = await pairAgent({ pairingToken: PAIRING, apiBase, name: 'e' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'AGENT_CONFIG_INVALID' });
      expect(String((err as Error).message)).toMatch(/control plane at https:.* does not speak TLS/);
      expect((err as { details: { hint: string } }).details.hint).toContain(srv.url);
    } finally {
      await srv.close();
    }
  });

  it('http:// against a TLS control plane suggests https://', async () => {
    const pki = makeTestPki();
    const server = createHttpsServer({ key: pki.key, cert: pki.cert }, (_req, res) => res.end('{}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const err = await pairAgent({ pairingToken: PAIRING, apiBase, name: 'e', timeoutMs: 5000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'CONTROL_PLANE_UNREACHABLE' });
      expect((err as { details: { hint: string } }).details.hint).toMatch(/if it serves TLS, use https:/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      pki.cleanup();
    }
  });
});
