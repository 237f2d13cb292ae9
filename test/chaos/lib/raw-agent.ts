/**
 * Hand-driven agents for the abuse and fuzz cases: raw `ws` clients speaking (or breaking) protocol
 * v1, with tokens provisioned straight into `organization_agents` (hash only, as the api stores them).
 */
import { generateToken, hashToken } from '@vespid/protocol';
import { type Pool, WebSocket, type WebSocketT } from './deps.js';

export async function provisionAgent(pool: Pool, organizationId: string, name: string, tags: string[] = []) {
  const token = generateToken(organizationId);
  const { rows } = await pool.query<{ id: string }>(
    'INSERT INTO organization_agents (organization_id, name, token_hash, tags) VALUES ($1, $2, $3, $4) RETURNING id',
    [organizationId, name, hashToken(token), tags],
  );
  return { agentId: rows[0]!.id, token, organizationId };
}

export interface RawAgent {
  ws: WebSocketT;
  /** Every parsed frame received. */
  frames: Array<Record<string, any>>;
  closed: Promise<{ code: number; reason: string }>;
  send(msg: unknown): void;
  next(type: string, timeoutMs?: number): Promise<Record<string, any>>;
  close(): Promise<void>;
}

export const hello = (name = 'raw', kinds = ['connector.action', 'agent.execute']) => ({
  type: 'hello',
  protocol: 1,
  agentVersion: '0.0.0-chaos',
  name,
  capabilities: { kinds, maxInFlight: 50 },
});

/** Opens a session; with `sendHello` waits for hello_ack. Upgrade failures reject with the HTTP status. */
export function rawAgent(
  wsUrl: string,
  token: string | undefined,
  options: { sendHello?: boolean; headers?: Record<string, string> } = {},
): Promise<RawAgent> {
  return new Promise((resolve, reject) => {
    const headers = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...options.headers };
    const ws = new WebSocket(wsUrl, { headers, perMessageDeflate: false, handshakeTimeout: 10_000 });
    const frames: Array<Record<string, any>> = [];
    const waiters = new Set<() => void>();
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.once('close', (code, reason) => r({ code, reason: reason.toString() })),
    );
    ws.on('message', (data) => {
      try {
        frames.push(JSON.parse(String(data)) as Record<string, any>);
      } catch {
        frames.push({ type: '<unparsable>' });
      }
      for (const w of waiters) w();
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => reject(Object.assign(new Error(`upgrade refused ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.once('error', (err) => reject(err));
    const agent: RawAgent = {
      ws,
      frames,
      closed,
      send: (msg) => ws.send(typeof msg === 'string' || Buffer.isBuffer(msg) ? msg : JSON.stringify(msg)),
      next(type, timeoutMs = 10_000) {
        return new Promise((res, rej) => {
          let seen = 0;
          const check = () => {
            for (; seen < frames.length; seen++) {
              if (frames[seen]!.type === type) {
                const f = frames.splice(seen, 1)[0]!;
                done();
                return res(f);
              }
            }
          };
          const timer = setTimeout(() => {
            done();
            rej(new Error(`no ${type} within ${timeoutMs} ms`));
          }, timeoutMs);
          const done = () => {
            clearTimeout(timer);
            waiters.delete(check);
          };
          waiters.add(check);
          check();
        });
      },
      async close() {
        if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.terminate();
        await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
      },
    };
    ws.once('open', () => {
      if (!options.sendHello) return resolve(agent);
      agent.send(hello());
      agent.next('hello_ack').then(() => resolve(agent), reject);
    });
  });
}
