import { LIMITS, parseJsonSafe, TagSchema } from '@vespid/protocol';
import { request } from 'undici';
import { z } from 'zod';
import { AgentError } from './errors.js';
import { createNetwork } from './network.js';

/**
 * Options of {@link pairAgent}.
 *
 * @example
 * ```ts
 * await pairAgent({ pairingToken, apiBase: 'https://api.example.com', name: 'edge-1', tags: ['east'], ca });
 * ```
 */
export interface PairAgentOptions {
  /** Single-use pairing token from the control plane (`/agents` or the API). Never logged. */
  pairingToken: string;
  /** Control-plane base URL, e.g. `http://localhost:3001`. */
  apiBase: string;
  /** Agent name to register. */
  name: string;
  tags?: string[];
  /** Capabilities to register (kinds, connectors). */
  capabilities?: { kinds?: string[]; connectors?: string[] };
  /** PEM of a private CA for an `https://` control plane. */
  ca?: string | Buffer;
  /** Proxy picker. @default HTTPS_PROXY / HTTP_PROXY / NO_PROXY */
  proxyForUrl?: (url: string) => string | undefined;
  /** @default 15000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * What the pairing exchange returns. `agentToken` is shown once: store it (see `writeAgentConfig`).
 *
 * @example
 * ```ts
 * const { agentId, agentToken, organizationId, gatewayWsUrl } = await pairAgent(options);
 * ```
 */
export interface PairAgentResult {
  agentId: string;
  agentToken: string;
  organizationId: string;
  gatewayWsUrl: string;
}

const OptionsSchema = z.object({
  pairingToken: z.string().min(1).max(1024),
  apiBase: z.url({ protocol: /^https?$/ }),
  name: z.string().min(1).max(LIMITS.nameLength),
  tags: z.array(TagSchema).max(LIMITS.tagsPerAgent).optional(),
  timeoutMs: z.number().int().min(1).max(300_000).default(15_000),
});

const ResponseSchema = z.object({
  agentId: z.string().min(1),
  agentToken: z.string().min(1),
  organizationId: z.string().min(1),
  gatewayWsUrl: z.url({ protocol: /^wss?$/ }),
});

/**
 * Exchanges a pairing token for agent credentials: `POST {apiBase}/v1/agents/pair` with
 * `{pairingToken, name, tags?, capabilities?}`. Errors keep the control plane's code
 * (`PAIRING_TOKEN_INVALID`, `RATE_LIMITED`, …); network failures are `AGENT_CONFIG_INVALID` when the URL
 * is bad and `INTERNAL_ERROR`-free retryable errors otherwise. Neither token appears in any message.
 *
 * @example
 * ```ts
 * const creds = await pairAgent({ pairingToken, apiBase: 'http://localhost:3001', name: 'edge-1', tags: ['east'] });
 * await writeAgentConfig(defaultAgentConfigPath(), { ...creds, apiBase, name: 'edge-1', tags: ['east'] });
 * ```
 */
export async function pairAgent(options: PairAgentOptions): Promise<PairAgentResult> {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) {
    const text = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AgentError('AGENT_CONFIG_INVALID', `invalid pairing options: ${text}`);
  }
  const o = parsed.data;
  const url = `${o.apiBase.replace(/\/+$/, '')}/v1/agents/pair`;
  const network = createNetwork({ ca: options.ca, proxyForUrl: options.proxyForUrl });
  const body: Record<string, unknown> = { pairingToken: o.pairingToken, name: o.name };
  if (o.tags?.length) body.tags = o.tags;
  if (options.capabilities) body.capabilities = options.capabilities;
  const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(o.timeoutMs)]) : AbortSignal.timeout(o.timeoutMs);
  try {
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal,
        dispatcher: network.dispatcher(url),
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new AgentError('GATEWAY_UNAVAILABLE', `cannot reach the control plane at ${o.apiBase}${code ? ` (${code})` : ''}`, {
        retryable: true,
        cause: err,
      });
    }
    const text = await readCapped(res.body, 64 * 1024);
    let json: unknown;
    try {
      json = text ? parseJsonSafe(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.statusCode !== 200 && res.statusCode !== 201) {
      const errBody = json as { code?: unknown; message?: unknown } | undefined;
      const code = typeof errBody?.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(errBody.code) ? errBody.code : `HTTP_${res.statusCode}`;
      const message = typeof errBody?.message === 'string' ? errBody.message.slice(0, 300) : `HTTP ${res.statusCode}`;
      throw new AgentError(
        code.startsWith('HTTP_') ? 'INTERNAL_ERROR' : code,
        `pairing failed (${res.statusCode} ${code}): ${scrub(message, o.pairingToken)}`,
        {
          httpStatus: res.statusCode,
          retryable: res.statusCode === 429 || res.statusCode >= 500,
        },
      );
    }
    const creds = ResponseSchema.safeParse(json);
    if (!creds.success) {
      throw new AgentError(
        'GATEWAY_RESPONSE_INVALID',
        `the control plane answered ${res.statusCode} without agentId/agentToken/organizationId/gatewayWsUrl`,
      );
    }
    return creds.data;
  } finally {
    await network.close();
  }
}

async function readCapped(body: AsyncIterable<Buffer | Uint8Array> & { destroy(): void }, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    size += c.length;
    if (size > max) {
      body.destroy();
      break;
    }
    chunks.push(Buffer.from(c));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function scrub(text: string, secret: string): string {
  return secret ? text.split(secret).join('***') : text;
}
