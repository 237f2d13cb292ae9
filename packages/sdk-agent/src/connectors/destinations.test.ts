/**
 * SSRF guard of the connectors, attacked with loopback targets only: a refused destination gets no
 * connection at all (the listening server counts zero), in every notation, for open and closed ports
 * alike; the allowlist opens exactly what it names; redirects and re-resolutions are checked again;
 * without a policy (node mode) loopback stays reachable.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { interceptors, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorActionExecutor } from '../connector-executor.js';
import { createDestinationPolicy } from '../destination-policy.js';
import type { ExecutorResult } from '../executor.js';
import { guardedDispatcher, type LookupAll } from '../guarded-dispatcher.js';
import { capturingLogger } from '../testing/index.js';
import { githubConnector } from './github.js';
import { httpConnector } from './http.js';

interface Counted {
  server: Server;
  port: number;
  connections: number;
  close(): Promise<void>;
}

async function countedServer(host: string, handler?: (url: string, res: import('node:http').ServerResponse) => void): Promise<Counted> {
  const server = createServer((req, res) => (handler ? handler(req.url ?? '/', res) : res.end('{"reached":true}')));
  const s: Counted = {
    server,
    port: 0,
    connections: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  server.on('connection', () => s.connections++);
  await new Promise<void>((r) => server.listen(0, host, r));
  s.port = (server.address() as AddressInfo).port;
  return s;
}

function run(executor: ReturnType<typeof connectorActionExecutor>, url: string) {
  return executor.execute(
    {
      requestId: 'r',
      organizationId: 'o',
      kind: 'connector.action',
      payload: { connectorId: 'http', actionId: 'request', input: { url } },
      timeoutMs: 5_000,
    },
    { signal: new AbortController().signal, logger: capturingLogger(), deadline: Date.now() + 5_000 },
  );
}

const failure = (r: ExecutorResult) => (r.status === 'failed' ? r.error : undefined);

describe('connector destination policy (SSRF guard)', () => {
  let target: Counted;
  beforeAll(async () => {
    target = await countedServer('127.0.0.1');
  });
  afterAll(() => target.close());

  const cloud = connectorActionExecutor({ connectors: [httpConnector({ destinations: createDestinationPolicy({ allow: ['public'] }) })] });

  it('refuses loopback in every notation without opening a connection', async () => {
    const p = target.port;
    const urls = [
      `http://127.0.0.1:${p}/metrics`,
      `http://2130706433:${p}/`,
      `http://0x7f.1:${p}/`,
      `http://0x7f000001:${p}/`,
      `http://017700000001:${p}/`,
      `http://0177.0.0.1:${p}/`,
      `http://127.1:${p}/`,
      `http://127.0.0.1.:${p}/`,
      `http://localhost:${p}/`,
      `http://LOCALHOST:${p}/`,
      `http://[::ffff:127.0.0.1]:${p}/`,
      `http://[::ffff:7f00:1]:${p}/`,
      `http://[::1]:${p}/`,
      `http://0:${p}/`, // 0.0.0.0 connects to the local host on Linux
      `http://[::]:${p}/`,
      `http://[64:ff9b::7f00:1]:${p}/`,
      `http://[::7f00:1]:${p}/`,
      `https://127.0.0.1:${p}/`,
    ];
    for (const url of urls) {
      const r = await run(cloud, url);
      expect(failure(r), url).toMatchObject({ code: 'DESTINATION_NOT_ALLOWED', retryable: false });
    }
    expect(target.connections).toBe(0);
  });

  it('refuses link-local (cloud metadata), private, CGNAT, multicast and broadcast ranges before any packet', async () => {
    const urls = [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/',
      'http://[fe80::1]/',
      'http://10.0.0.1/',
      'http://172.16.0.1/',
      'http://192.168.1.1/',
      'http://100.64.0.1/',
      'http://224.0.0.1/',
      'http://255.255.255.255/',
    ];
    const started = Date.now();
    for (const url of urls) expect(failure(await run(cloud, url)), url).toMatchObject({ code: 'DESTINATION_NOT_ALLOWED' });
    // Nothing was sent: no connect timeout was waited for (a real attempt at 10.0.0.1 would hang).
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('answers an open and a closed port with the same error (no port-scanner oracle)', async () => {
    const closed = await countedServer('127.0.0.1');
    const closedPort = closed.port;
    await closed.close();
    const open = failure(await run(cloud, `http://127.0.0.1:${target.port}/`));
    const shut = failure(await run(cloud, `http://127.0.0.1:${closedPort}/`));
    expect(open).toEqual(shut);
    expect(open?.message).not.toContain(String(target.port));
    expect(target.connections).toBe(0);
  });

  it('opens exactly what the allowlist names', async () => {
    const other = await countedServer('127.0.0.2');
    try {
      const policy = createDestinationPolicy({ allow: ['public', '127.0.0.2/32'] });
      const ex = connectorActionExecutor({ connectors: [httpConnector({ destinations: policy })] });
      expect(await run(ex, `http://127.0.0.2:${other.port}/`)).toMatchObject({ status: 'succeeded', output: { status: 200 } });
      expect(other.connections).toBe(1);
      expect(failure(await run(ex, `http://127.0.0.1:${target.port}/`))).toMatchObject({ code: 'DESTINATION_NOT_ALLOWED' });
      expect(failure(await run(ex, `http://localhost:${target.port}/`))).toMatchObject({ code: 'DESTINATION_NOT_ALLOWED' });
      expect(target.connections).toBe(0);

      const byName = connectorActionExecutor({
        connectors: [httpConnector({ destinations: createDestinationPolicy({ allow: ['localhost'] }) })],
      });
      const viaName = await run(byName, `http://localhost:${target.port}/`);
      // localhost may resolve to ::1 first, where nothing listens: either way, the name was let through.
      expect(failure(viaName)?.code).not.toBe('DESTINATION_NOT_ALLOWED');
      expect(failure(await run(byName, `http://127.0.0.1:${target.port}/`))).toMatchObject({ code: 'DESTINATION_NOT_ALLOWED' });
    } finally {
      await other.close();
    }
  });

  it('checks every connection against the answer it connects to (no DNS-rebinding gap)', async () => {
    const decoy = await countedServer('127.0.0.2');
    const inner = await countedServer('127.0.0.1');
    // A resolver that first answers an allowed address, then the internal one (a rebinding DNS server).
    const answers = ['127.0.0.2', '127.0.0.1'];
    const resolve: LookupAll = (_host, cb) => cb(null, [{ address: answers.shift() ?? '127.0.0.1', family: 4 }]);
    const policy = createDestinationPolicy({ allow: ['127.0.0.2'] });
    try {
      const first = guardedDispatcher({ policy, resolve });
      const ok = await request(`http://rebind.test:${decoy.port}/`, { dispatcher: first, reset: true });
      await ok.body.text();
      expect(decoy.connections).toBe(1);
      // The first connection was closed (reset): the next one resolves again, gets the internal address and is refused.
      await expect(request(`http://rebind.test:${decoy.port}/`, { dispatcher: first })).rejects.toMatchObject({
        code: 'DESTINATION_NOT_ALLOWED',
      });
      expect(decoy.connections).toBe(1);
      const again = guardedDispatcher({ policy, resolve: (_h, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) });
      await expect(request(`http://rebind.test:${inner.port}/`, { dispatcher: again })).rejects.toMatchObject({
        code: 'DESTINATION_NOT_ALLOWED',
      });
      // A record set mixing an allowed and an internal address is refused as a whole.
      const mixed = guardedDispatcher({
        policy,
        resolve: (_h, cb) =>
          cb(null, [
            { address: '127.0.0.2', family: 4 },
            { address: '127.0.0.1', family: 4 },
          ]),
      });
      await expect(request(`http://mixed.test:${inner.port}/`, { dispatcher: mixed })).rejects.toMatchObject({
        code: 'DESTINATION_NOT_ALLOWED',
      });
      expect(inner.connections).toBe(0);
    } finally {
      await decoy.close();
      await inner.close();
    }
  });

  it('checks redirects again: an allowed host redirecting to loopback is refused', async () => {
    const inner = await countedServer('127.0.0.1');
    const front = await countedServer('127.0.0.2', (_url, res) => {
      res.statusCode = 302;
      res.setHeader('location', `http://127.0.0.1:${inner.port}/admin`);
      res.end();
    });
    try {
      const policy = createDestinationPolicy({ allow: ['127.0.0.2'] });
      // The connector returns a 3xx as its result and never follows it …
      const ex = connectorActionExecutor({ connectors: [httpConnector({ destinations: policy })] });
      expect(await run(ex, `http://127.0.0.2:${front.port}/`)).toMatchObject({ status: 'succeeded', output: { status: 302 } });
      // … and a dispatcher that does follow redirects still checks the new destination.
      const following = guardedDispatcher({ policy }).compose(interceptors.redirect({ maxRedirections: 3 }));
      await expect(request(`http://127.0.0.2:${front.port}/`, { dispatcher: following })).rejects.toMatchObject({
        code: 'DESTINATION_NOT_ALLOWED',
      });
      expect(front.connections).toBeGreaterThanOrEqual(1);
      expect(inner.connections).toBe(0);
    } finally {
      await front.close();
      await inner.close();
    }
  });

  it('guards the github connector the same way', async () => {
    const before = target.connections;
    const gh = connectorActionExecutor({
      connectors: [
        githubConnector({
          apiBaseUrl: `http://2130706433:${target.port}/api/v3`,
          destinations: createDestinationPolicy({ allow: ['public'] }),
        }),
      ],
    });
    const r = await gh.execute(
      {
        requestId: 'r',
        organizationId: 'o',
        kind: 'connector.action',
        payload: { connectorId: 'github', actionId: 'issue.create', input: { owner: 'a', repo: 'b', title: 't' } },
        timeoutMs: 5_000,
      },
      { signal: new AbortController().signal, logger: capturingLogger(), secret: 'ghp_x', deadline: Date.now() + 5_000 },
    );
    expect(failure(r)).toMatchObject({ code: 'DESTINATION_NOT_ALLOWED' });
    expect(target.connections).toBe(before);
    expect(() =>
      httpConnector({
        destinations: createDestinationPolicy({ allow: [] }),
        dispatcher: guardedDispatcher({ policy: createDestinationPolicy({ allow: [] }) }),
      }),
    ).toThrow(/either dispatcher or destinations/);
  });

  it('without a policy (node mode, the agent default) loopback stays reachable', async () => {
    const nodeMode = connectorActionExecutor({ connectors: [httpConnector()] });
    const before = target.connections;
    expect(await run(nodeMode, `http://127.0.0.1:${target.port}/`)).toMatchObject({ status: 'succeeded', output: { status: 200 } });
    expect(target.connections).toBe(before + 1);
  });
});
