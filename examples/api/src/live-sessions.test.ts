import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_SESSIONS_ROUTE, type LiveSessionSource, gatewayLiveSessions, liveSessionsFromEnv, mergeLive } from './live-sessions.js';

const SERVICE_TOKEN = `svc_canary_${Math.random().toString(36).slice(2)}`;
const ORG = '11111111-2222-4333-8444-555555555555';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

const session = (agentId: string, inFlight: number) => ({
  agentId,
  sessionId: `s-${agentId}`,
  name: agentId,
  inFlight,
  maxInFlight: 4,
  kinds: ['connector.action'],
  connectors: ['http'],
  reportedTags: ['east'],
  connectedAt: '2026-01-01T00:00:00.000Z',
  lastSeenAt: Date.parse('2026-01-01T00:00:05.000Z'),
});

describe('live sessions from the gateway (stub server)', () => {
  let server: Server;
  let url: string;
  let handler: Handler;
  const seen: Array<{ url: string; authorization: string | undefined }> = [];
  const logs: string[] = [];
  const logger = {
    trace() {},
    debug() {},
    info() {},
    warn: (obj: object, msg?: string) => void logs.push(JSON.stringify([obj, msg])),
    error: (obj: object, msg?: string) => void logs.push(JSON.stringify([obj, msg])),
    fatal() {},
    child() {
      return logger;
    },
  };
  const sources: LiveSessionSource[] = [];
  const source = (timeoutMs = 1000, base = url) => {
    const s = gatewayLiveSessions({ url: base, serviceToken: SERVICE_TOKEN, timeoutMs, logger });
    sources.push(s);
    return s;
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    for (const s of sources.splice(0)) await s.close();
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    expect(logs.join('\n')).not.toContain(SERVICE_TOKEN);
  });

  it('asks for the org with the service token and maps sessions by agent id', async () => {
    handler = (req, res) => {
      if (req.headers.authorization !== `Bearer ${SERVICE_TOKEN}`) return json(res, 401, { code: 'UNAUTHORIZED', message: 'no' });
      // The gateway's SessionInfo shape: numeric times, connectors null when undeclared, extra fields.
      json(res, 200, { sessions: [session('a1', 2), { ...session('a2', 0), connectors: null, state: 'ready', remoteAddress: '::1' }] });
    };
    const sessions = await source().list(ORG);
    expect(seen.at(-1)?.url).toBe(`${LIVE_SESSIONS_ROUTE}?organizationId=${ORG}`);
    expect(sessions?.get('a1')).toEqual({
      sessionId: 's-a1',
      inFlight: 2,
      maxInFlight: 4,
      kinds: ['connector.action'],
      connectors: ['http'],
      reportedTags: ['east'],
      connectedAt: '2026-01-01T00:00:00.000Z',
      lastSeenAt: '2026-01-01T00:00:05.000Z',
    });
    expect(sessions?.get('a2')).toMatchObject({ inFlight: 0, connectors: null });
  });

  it('reads the fleet fields of a newer gateway: version, paused, address and the requests with their run and node', async () => {
    const runId = '0b7c8a7e-1d2f-4c3b-9a8e-7f6d5c4b3a21';
    handler = (_req, res) =>
      json(res, 200, {
        sessions: [
          {
            ...session('a1', 2),
            agentVersion: '1.2.3',
            paused: true,
            remoteAddress: '10.0.0.7',
            requests: [
              {
                requestId: `${runId}:fetch:1`,
                kind: 'connector.action',
                startedAt: Date.parse('2026-01-01T00:00:03.000Z'),
                received: true,
              },
              { requestId: 'adhoc-42', kind: 'agent.execute', startedAt: 0, received: false },
            ],
          },
        ],
      });
    const live = (await source().list(ORG))?.get('a1');
    expect(live).toMatchObject({ agentVersion: '1.2.3', paused: true, remoteAddress: '10.0.0.7' });
    expect(live?.requests).toEqual([
      {
        requestId: `${runId}:fetch:1`,
        kind: 'connector.action',
        startedAt: '2026-01-01T00:00:03.000Z',
        received: true,
        runId,
        nodeId: 'fetch',
        attempt: 1,
      },
      {
        requestId: 'adhoc-42',
        kind: 'agent.execute',
        startedAt: '1970-01-01T00:00:00.000Z',
        received: false,
        runId: null,
        nodeId: null,
        attempt: null,
      },
    ]);
  });

  it('merges live data per agent: session, null when not connected, null when revoked', async () => {
    handler = (_req, res) => json(res, 200, { sessions: [session('a1', 3), session('a3', 1)] });
    const agents = [
      { id: 'a1', status: 'online' },
      { id: 'a2', status: 'offline' },
      { id: 'a3', status: 'revoked' },
    ];
    const merged = mergeLive(agents, await source().list(ORG), true);
    expect(merged.live).toBe('gateway');
    expect(merged.agents.map((a) => a.live?.inFlight ?? a.live)).toEqual([3, null, null]);
  });

  it('a gateway without the route (404), a refusal or a wrong answer means no live data, not an error', async () => {
    for (const [status, body] of [
      [404, { code: 'NOT_FOUND', message: 'route not found' }],
      [401, { code: 'UNAUTHORIZED', message: 'bad token' }],
      [200, { nope: true }],
    ] as const) {
      handler = (_req, res) => json(res, status, body);
      const sessions = await source().list(ORG);
      expect(sessions).toBeUndefined();
      const merged = mergeLive([{ id: 'a1', status: 'online' }], sessions, true);
      expect(merged).toEqual({ agents: [{ id: 'a1', status: 'online' }], live: 'unavailable' });
    }
    expect(logs.some((l) => l.includes('route not found'))).toBe(true);
  });

  it('an unreachable or hanging gateway resolves to no live data within the timeout', async () => {
    // A port that was just closed: connection refused.
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise<void>((r) => dead.close(() => r()));
    expect(await source(1000, deadUrl).list(ORG)).toBeUndefined();

    handler = () => {}; // never answers
    expect(await source(200).list(ORG)).toBeUndefined();
  });

  it('concurrent lists of one org share one gateway call', async () => {
    const before = seen.length;
    handler = (_req, res) => setTimeout(() => json(res, 200, { sessions: [session('a1', 1)] }), 50);
    const s = source();
    const [x, y, z] = await Promise.all([s.list(ORG), s.list(ORG), s.list(ORG)]);
    expect(seen.length - before).toBe(1);
    expect([x, y, z].map((m) => m?.get('a1')?.inFlight)).toEqual([1, 1, 1]);
  });

  it('is configured only with GATEWAY_SERVICE_TOKEN; GATEWAY_HTTP_URL defaults to the runbook value', async () => {
    expect(liveSessionsFromEnv({ GATEWAY_HTTP_URL: url })).toBeUndefined();
    expect(mergeLive([{ id: 'a1', status: 'online' }], undefined, false).live).toBe('not_configured');
    handler = (_req, res) => json(res, 200, { sessions: [] });
    const s = liveSessionsFromEnv({ GATEWAY_HTTP_URL: url, GATEWAY_SERVICE_TOKEN: SERVICE_TOKEN });
    expect(s).toBeDefined();
    sources.push(s!);
    expect((await s!.list(ORG))?.size).toBe(0);
    expect(() => liveSessionsFromEnv({ GATEWAY_HTTP_URL: 'not a url', GATEWAY_SERVICE_TOKEN: 'x' })).toThrow(/gatewayHttpUrl/);
  });
});
