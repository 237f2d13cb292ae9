import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type DispatchRequest,
  DispatchRequestSchema,
  type ExecutionResult,
  ROUTES,
  type StoredResult,
  bearerToken,
  parseJsonSafe,
  tokensEqual,
} from '@vespid/protocol';

/**
 * Options of {@link createFakeDispatchGateway}.
 *
 * @example
 * ```ts
 * createFakeDispatchGateway({ serviceToken: 't', agents: 0 }); // every dispatch → 503 NO_AGENT_AVAILABLE
 * ```
 */
export interface FakeDispatchGatewayOptions {
  serviceToken: string;
  /** Connected agents; 0 makes dispatch answer 503 `NO_AGENT_AVAILABLE`. @default 1 */
  agents?: number;
  /** Decides each request's result; `undefined` leaves it running until {@link FakeDispatchGateway.complete}. */
  execute?: (request: DispatchRequest) => ExecutionResult | undefined | Promise<ExecutionResult | undefined>;
  /** The agent the fake "chooses": named in `dispatch-async` answers and stored results. @default none */
  agent?: { agentId: string; agentName?: string };
  /** Called for every stored result (a test can PUBLISH it to Redis). */
  onStored?: (result: StoredResult) => void;
}

/**
 * A protocol-v1 stand-in for the gateway's internal HTTP API, for unit tests of hosts.
 *
 * @example
 * ```ts
 * const gw = createFakeDispatchGateway({ serviceToken });
 * await gw.start();
 * gw.complete('r:n:0', { status: 'succeeded', output: 1 });
 * ```
 */
export interface FakeDispatchGateway {
  /** `http://127.0.0.1:<port>` once started. */
  readonly url: string;
  /** Every dispatch the fake accepted (secret replaced by a `hasSecret` flag). */
  readonly accepted: Array<Omit<DispatchRequest, 'secret'> & { hasSecret: boolean }>;
  agents: number;
  start(): Promise<string>;
  /** Stores a result for a request, as an agent answer would. */
  complete(requestId: string, result: ExecutionResult, organizationId?: string): StoredResult;
  close(): Promise<void>;
}

/**
 * Starts a tiny node:http server speaking the dispatch API (`dispatch-async`, `dispatch`, `results`),
 * on 127.0.0.1 and port 0. Not a gateway: no agents, no WebSocket; results are whatever the test says.
 *
 * @example
 * ```ts
 * const gw = createFakeDispatchGateway({ serviceToken: 't', execute: () => ({ status: 'succeeded', output: 42 }) });
 * const client = createDispatchClient({ gatewayHttpUrl: await gw.start(), serviceToken: 't' });
 * ```
 */
export function createFakeDispatchGateway(options: FakeDispatchGatewayOptions): FakeDispatchGateway {
  const results = new Map<string, StoredResult>();
  const running = new Map<string, DispatchRequest>();
  const waiters = new Map<string, Array<(r: StoredResult) => void>>();
  const accepted: FakeDispatchGateway['accepted'] = [];
  let url = '';

  function complete(requestId: string, result: ExecutionResult, organizationId?: string): StoredResult {
    const org = organizationId ?? running.get(requestId)?.organizationId ?? 'org';
    const stored: StoredResult = { requestId, organizationId: org, ...result, ...options.agent, completedAt: Date.now() };
    results.set(requestId, stored);
    running.delete(requestId);
    options.onStored?.(stored);
    for (const w of waiters.get(requestId) ?? []) w(stored);
    waiters.delete(requestId);
    return stored;
  }

  async function run(request: DispatchRequest): Promise<void> {
    running.set(request.requestId, request);
    const { secret, ...rest } = request;
    accepted.push({ ...rest, hasSecret: secret !== undefined });
    const result = await options.execute?.(request);
    if (result) complete(request.requestId, result, request.organizationId);
  }

  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const token = bearerToken(req.headers.authorization);
    if (!token || !tokensEqual(token, options.serviceToken)) return send(401, { code: 'UNAUTHORIZED', message: 'bad service token' });
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'GET' && path.startsWith(`${ROUTES.results}/`)) {
      const id = decodeURIComponent(path.slice(ROUTES.results.length + 1));
      const r = results.get(id);
      return r ? send(200, r) : send(404, { code: 'RESULT_NOT_READY', message: 'not ready' });
    }
    if (req.method !== 'POST' || (path !== ROUTES.dispatch && path !== ROUTES.dispatchAsync)) {
      return send(404, { code: 'NOT_FOUND', message: 'no such route' });
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = parseJsonSafe(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(400, { code: 'BAD_REQUEST', message: 'invalid JSON' });
      }
      const parsed = DispatchRequestSchema.safeParse(body);
      if (!parsed.success) return send(400, { code: 'BAD_REQUEST', message: 'invalid dispatch request' });
      const request = parsed.data;
      const id = request.requestId;
      const cached = results.get(id);
      if (path === ROUTES.dispatchAsync) {
        if (cached) return send(200, { requestId: id, dispatched: false, cached: true });
        if (running.has(id)) return send(200, { requestId: id, dispatched: false, inFlight: true, ...options.agent });
        if (gateway.agents < 1) return send(503, { code: 'NO_AGENT_AVAILABLE', message: 'no agent connected' });
        send(201, { requestId: id, dispatched: true, ...options.agent });
        void run(request);
        return;
      }
      const answer = (r: StoredResult) => {
        const { organizationId: _o, agentId: _a, agentName: _n, completedAt: _c, ...rest } = r;
        send(200, rest);
      };
      if (cached) return answer(cached);
      if (gateway.agents < 1) return send(503, { code: 'NO_AGENT_AVAILABLE', message: 'no agent connected' });
      const list = waiters.get(id) ?? [];
      list.push(answer);
      waiters.set(id, list);
      if (!running.has(id)) void run(request);
    });
  });

  const gateway: FakeDispatchGateway = {
    get url() {
      return url;
    },
    accepted,
    agents: options.agents ?? 1,
    async start() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return url;
    },
    complete,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return gateway;
}

// The old names, kept for one release: `@vespid/sdk-agent/testing` has a fake gateway of its own (the
// agents' WebSocket side), and two `createFakeGateway` with different shapes were easy to mix up.
/**
 * @deprecated Renamed {@link createFakeDispatchGateway}; this alias goes in the next minor release.
 *
 * @example
 * ```ts
 * // before: createFakeGateway
 * // now:    createFakeDispatchGateway
 * ```
 */
export const createFakeGateway = createFakeDispatchGateway;
/**
 * @deprecated Renamed {@link FakeDispatchGatewayOptions}; this alias goes in the next minor release.
 *
 * @example
 * ```ts
 * // before: FakeGatewayOptions
 * // now:    FakeDispatchGatewayOptions
 * ```
 */
export type FakeGatewayOptions = FakeDispatchGatewayOptions;
/**
 * @deprecated Renamed {@link FakeDispatchGateway}; this alias goes in the next minor release.
 *
 * @example
 * ```ts
 * // before: FakeGateway
 * // now:    FakeDispatchGateway
 * ```
 */
export type FakeGateway = FakeDispatchGateway;
