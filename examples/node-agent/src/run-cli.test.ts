import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

function io(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  return { io: { env, out: (s: string) => out.push(s), err: (s: string) => err.push(s), logDestination }, out, err, logs };
}

describe('vespid-agent CLI (in-process)', () => {
  let dir: string;
  let api: ReturnType<typeof createServer>;
  let apiBase: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vespid-cli-'));
    api = createServer((_req, res) => {
      res.statusCode = 401;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ code: 'PAIRING_TOKEN_INVALID', message: 'pairing token unknown, expired or already used' }));
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiBase = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    api.closeAllConnections();
    await new Promise<void>((r) => api.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('--help explains every flag and the env fallbacks', async () => {
    const t = io();
    expect(await runCli(['connect', '--help'], t.io)).toBe(0);
    const help = t.out.join('');
    for (const flag of [
      '--pairing-token',
      '--api-base',
      '--tags',
      '--name',
      '--config-path',
      '--max-in-flight',
      '--log-format',
      '--json',
      '--drain-timeout-ms',
    ]) {
      expect(help).toContain(flag);
    }
    const top = io();
    expect(await runCli(['--help'], top.io)).toBe(0);
    for (const env of [
      'VESPID_API_BASE',
      'VESPID_AGENT_CONFIG_PATH',
      'VESPID_AGENT_TAGS',
      'VESPID_AGENT_EXEC_BACKEND',
      'VESPID_AGENT_TLS_CA_FILE',
      'HTTPS_PROXY',
    ]) {
      expect(top.out.join('')).toContain(env);
    }
  });

  it.each([
    [['connect', '--pairing-token', 't', '--api-base', 'http://x', '--bogus'], /unknown option '--bogus'/],
    [['connect', '--api-base', 'http://x'], /required option '--pairing-token <token>' not specified/],
    [['start', '--max-in-flight', 'lots'], /--max-in-flight.*integer/],
    [['start', '--tags', 'has space'], /invalid tag/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('a bad flag prints one clear line and exits 2: %j', async (argv, message) => {
    const t = io();
    expect(await runCli(argv, t.io)).toBe(2);
    expect(t.err).toHaveLength(1);
    expect(t.err[0]).toMatch(message);
    expect(t.err[0]).toMatch(/^vespid-agent: .*\n$/);
  });

  it('a failed pairing prints one line with the code, never the token, and exits 1', async () => {
    const token = 'org1.pairing_canary_abcdefghijklmnop';
    const t = io();
    const code = await runCli(
      ['--', 'connect', '--pairing-token', token, '--api-base', apiBase, '--config-path', join(dir, 'a.json')],
      t.io,
    );
    expect(code).toBe(1);
    expect(t.err).toHaveLength(1);
    expect(t.err[0]).toMatch(/pairing failed \(401 PAIRING_TOKEN_INVALID\)/);
    expect([...t.err, ...t.out, ...t.logs].join('')).not.toContain('pairing_canary');
  });

  it('uses VESPID_API_BASE and VESPID_AGENT_CONFIG_PATH as fallbacks', async () => {
    const t = io({ VESPID_API_BASE: apiBase, VESPID_AGENT_CONFIG_PATH: join(dir, 'env.json') });
    expect(await runCli(['connect', '--pairing-token', 'org1.whatever_abcdefghijklmnop'], t.io)).toBe(1);
    expect(t.err[0]).toMatch(/PAIRING_TOKEN_INVALID/);
    const s = io({ VESPID_AGENT_CONFIG_PATH: join(dir, 'missing.json') });
    expect(await runCli(['start'], s.io)).toBe(1);
    expect(s.err[0]).toContain(join(dir, 'missing.json'));
    expect(s.err[0]).toMatch(/run `connect --pairing-token <token>` first/);
  });

  it('refuses an unknown VESPID_AGENT_EXEC_BACKEND before pairing', async () => {
    const t = io({ VESPID_AGENT_EXEC_BACKEND: 'host' });
    expect(await runCli(['connect', '--pairing-token', 'org1.x_abcdefghijklmnopqr', '--api-base', apiBase], t.io)).toBe(1);
    expect(t.err[0]).toMatch(/VESPID_AGENT_EXEC_BACKEND=host is not supported/);
  });
});
