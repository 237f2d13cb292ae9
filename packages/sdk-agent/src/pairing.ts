import { type ErrorCode, LIMITS, TagSchema, isErrorCode, parseJsonSafe, formatZodIssues } from '@vespid/protocol';
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

/** The hint an operator needs for a refused or expired pairing token. */
const NEW_TOKEN_HINT = 'pairing tokens are single-use and live 15 minutes: create a new one on the /agents page';

/**
 * Exchanges a pairing token for agent credentials: `POST {apiBase}/v1/agents/pair` with
 * `{pairingToken, name, tags?, capabilities?}`. Errors keep the control plane's code
 * (`PAIRING_TOKEN_INVALID`, `PAIRING_TOKEN_EXPIRED`, `RATE_LIMITED`, …) and carry an operator hint in
 * `details.hint`: a used or expired token, an `apiBase` that is not the control plane (404), an
 * http/https mismatch. An unreachable control plane is `CONTROL_PLANE_UNREACHABLE` (retryable).
 * Neither token appears in any message.
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
    throw new AgentError('AGENT_CONFIG_INVALID', `invalid pairing options: ${formatZodIssues(parsed.error)}`);
  }
  const o = parsed.data;
  const body: Record<string, unknown> = { pairingToken: o.pairingToken, name: o.name };
  if (o.tags?.length) body.tags = o.tags;
  if (options.capabilities) body.capabilities = options.capabilities;
  const res = await callControlPlane({ ...options, apiBase: o.apiBase, timeoutMs: o.timeoutMs, path: '/v1/agents/pair', body });
  if (res.status !== 200 && res.status !== 201) throw controlPlaneError('pairing', res, o.apiBase, o.pairingToken);
  const creds = ResponseSchema.safeParse(res.json);
  if (!creds.success) {
    throw new AgentError(
      'GATEWAY_RESPONSE_INVALID',
      `the control plane answered ${res.status} without agentId/agentToken/organizationId/gatewayWsUrl`,
      { details: { hint: `is ${o.apiBase} the Vespid control plane (the api)?` } },
    );
  }
  return creds.data;
}

/**
 * Options of {@link deregisterAgent}.
 *
 * @example
 * ```ts
 * await deregisterAgent({ apiBase: config.apiBase, agentToken: config.agentToken });
 * ```
 */
export interface DeregisterAgentOptions {
  /** Control-plane base URL the agent paired with (saved as `apiBase` in its config). */
  apiBase: string;
  /** The agent's own token: an agent can only revoke itself. Never logged. */
  agentToken: string;
  ca?: string | Buffer;
  proxyForUrl?: (url: string) => string | undefined;
  /** @default 15000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Deregisters the agent: `POST {apiBase}/v1/agents/deregister` with `Authorization: Bearer <agentToken>`.
 * The control plane revokes the token and tells every gateway. Resolves with `alreadyGone: true` when the
 * token is already revoked or unknown (401/403), so a retried `remove` still succeeds.
 *
 * @example
 * ```ts
 * const { agentId } = await deregisterAgent({ apiBase: config.apiBase, agentToken: config.agentToken });
 * ```
 */
export async function deregisterAgent(options: DeregisterAgentOptions): Promise<{ agentId?: string; alreadyGone: boolean }> {
  const apiBase = z.url({ protocol: /^https?$/ }).safeParse(options.apiBase);
  if (!apiBase.success) throw new AgentError('AGENT_CONFIG_INVALID', `invalid control-plane URL ${JSON.stringify(options.apiBase)}`);
  const res = await callControlPlane({
    ...options,
    apiBase: apiBase.data,
    timeoutMs: options.timeoutMs ?? 15_000,
    path: '/v1/agents/deregister',
    bearer: options.agentToken,
  });
  if (res.status === 200) {
    const agentId = (res.json as { agentId?: unknown } | undefined)?.agentId;
    return { ...(typeof agentId === 'string' ? { agentId } : {}), alreadyGone: false };
  }
  if (res.status === 401 || res.status === 403) return { alreadyGone: true };
  throw controlPlaneError('deregistration', res, apiBase.data, options.agentToken);
}

/**
 * Asks the control plane to rotate this agent's token: `POST {apiBase}/v1/agents/rotate-token` with
 * `Authorization: Bearer <agentToken>`. The answer carries no token: the new one arrives in-band on the
 * agent's gateway session (`rotate_token`), now if it is connected, else on its next connect.
 * `oldTokenValidUntil` is when the current token stops working.
 *
 * @example
 * ```ts
 * const { oldTokenValidUntil } = await requestTokenRotation({ apiBase: config.apiBase, agentToken: config.agentToken });
 * ```
 */
export async function requestTokenRotation(options: DeregisterAgentOptions): Promise<{ agentId: string; oldTokenValidUntil: string }> {
  const apiBase = z.url({ protocol: /^https?$/ }).safeParse(options.apiBase);
  if (!apiBase.success) throw new AgentError('AGENT_CONFIG_INVALID', `invalid control-plane URL ${JSON.stringify(options.apiBase)}`);
  const res = await callControlPlane({
    ...options,
    apiBase: apiBase.data,
    timeoutMs: options.timeoutMs ?? 15_000,
    path: '/v1/agents/rotate-token',
    bearer: options.agentToken,
  });
  const agent = (res.json as { agents?: Array<{ agentId?: unknown; oldTokenValidUntil?: unknown }> } | undefined)?.agents?.[0];
  if (res.status === 200 && typeof agent?.agentId === 'string' && typeof agent.oldTokenValidUntil === 'string')
    return { agentId: agent.agentId, oldTokenValidUntil: agent.oldTokenValidUntil };
  throw controlPlaneError('token rotation', res, apiBase.data, options.agentToken);
}

interface ControlPlaneCall {
  apiBase: string;
  path: string;
  body?: unknown;
  bearer?: string;
  ca?: string | Buffer | undefined;
  proxyForUrl?: ((url: string) => string | undefined) | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

interface ControlPlaneResponse {
  status: number;
  json: unknown;
}

/** One JSON POST to the control plane; network failures become errors with a hint naming the right side. */
async function callControlPlane(c: ControlPlaneCall): Promise<ControlPlaneResponse> {
  const url = `${c.apiBase.replace(/\/+$/, '')}${c.path}`;
  const network = createNetwork({ ca: c.ca, proxyForUrl: c.proxyForUrl });
  const signal = c.signal ? AbortSignal.any([c.signal, AbortSignal.timeout(c.timeoutMs)]) : AbortSignal.timeout(c.timeoutMs);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (c.bearer) headers.authorization = `Bearer ${c.bearer}`;
  try {
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(c.body ?? {}),
        signal,
        dispatcher: network.dispatcher(url),
      });
    } catch (err) {
      throw unreachable(c.apiBase, err);
    }
    const text = await readCapped(res.body, 64 * 1024);
    let json: unknown;
    try {
      json = text ? parseJsonSafe(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, json };
  } finally {
    await network.close();
  }
}

/**
 * A request that never got an HTTP answer. TLS errors on an https:// URL mean the server speaks plain
 * HTTP; a reset right after connecting on an http:// URL usually means it speaks TLS.
 */
function unreachable(apiBase: string, err: unknown): AgentError {
  const e = err as { code?: unknown; name?: string; message?: string; cause?: { code?: string } };
  // AbortSignal.timeout() rejects with a DOMException whose numeric code (23) says nothing: use its name.
  const code = typeof e.code === 'string' ? e.code : (e.cause?.code ?? (e.name === 'TimeoutError' ? 'TimeoutError' : undefined));
  const https = apiBase.startsWith('https:');
  const tlsMismatch = /WRONG_VERSION_NUMBER|wrong version number|EPROTO|packet length too long|ERR_SSL_/i.test(`${code} ${e.message}`);
  if (https && tlsMismatch) {
    return new AgentError('AGENT_CONFIG_INVALID', `the control plane at ${apiBase} does not speak TLS (${code ?? 'TLS error'})`, {
      cause: err,
      details: { hint: `use ${apiBase.replace(/^https:/, 'http:')} (--api-base), or put TLS in front of the control plane` },
    });
  }
  let hint = `check that the control plane (the api) runs and that ${apiBase} is reachable from this machine`;
  if (!https && /UND_ERR_SOCKET|ECONNRESET|UND_ERR_HEADERS|HPE_/.test(code ?? '')) {
    hint = `the server closed the connection: if it serves TLS, use ${apiBase.replace(/^http:/, 'https:')} (--api-base)`;
  }
  if (/DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_/.test(code ?? '')) {
    hint = 'the control plane certificate is not trusted: set VESPID_AGENT_TLS_CA_FILE to the PEM of its CA';
  }
  return new AgentError('CONTROL_PLANE_UNREACHABLE', `cannot reach the control plane at ${apiBase}${code ? ` (${code})` : ''}`, {
    retryable: true,
    cause: err,
    details: { hint },
  });
}

/** An HTTP error answer: keep the control plane's code, scrub the secret, add the hint that fits. */
function controlPlaneError(what: string, res: ControlPlaneResponse, apiBase: string, secret: string): AgentError {
  const errBody = res.json as { code?: unknown; message?: unknown } | undefined;
  const bodyCode = typeof errBody?.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(errBody.code) ? errBody.code : undefined;
  const shown = bodyCode ?? `HTTP_${res.status}`;
  const message = typeof errBody?.message === 'string' ? errBody.message.slice(0, 300) : `HTTP ${res.status}`;
  let hint: string | undefined;
  // A code this version does not catalogue (a newer control plane) is still shown in the message.
  let code: ErrorCode = bodyCode !== undefined && isErrorCode(bodyCode) ? bodyCode : 'INTERNAL_ERROR';
  if (bodyCode === 'PAIRING_TOKEN_INVALID' || bodyCode === 'PAIRING_TOKEN_EXPIRED') hint = NEW_TOKEN_HINT;
  else if (res.status === 404 || res.status === 405) {
    // The gateway answers unknown paths with 404 NOT_FOUND too: the classic mix-up of the two URLs.
    code = 'AGENT_CONFIG_INVALID';
    hint = `${apiBase} has no Vespid control-plane API: --api-base must be the control plane (the api, e.g. http://localhost:3001), not the gateway`;
  } else if (res.status === 429) hint = 'the control plane is rate limiting this address; wait a minute and retry';
  return new AgentError(code, `${what} failed (${res.status} ${shown}): ${scrub(message, secret)}`, {
    httpStatus: res.status,
    retryable: res.status === 429 || res.status >= 500,
    ...(hint ? { details: { hint } } : {}),
  });
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
