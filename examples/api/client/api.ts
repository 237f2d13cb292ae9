/**
 * The page's API client: same-origin fetch with the access token and X-Org-Id, JSON in and out, and
 * failures as {@link ApiCallError} carrying the catalogue code and the API's message.
 */
import { type ApiFailure, describeApiError } from '../src/web/lib/errors.js';
import type { CurrentJob, LiveSession, LiveStatus } from '../src/web/lib/live-session.js';

export type { CurrentJob, LiveSession };

export class ApiCallError extends Error {
  constructor(readonly failure: ApiFailure) {
    super(describeApiError(failure));
    this.name = 'ApiCallError';
  }
}

export interface AgentView {
  id: string;
  name: string;
  status: 'online' | 'offline' | 'revoked';
  tags: string[];
  reportedTags: string[];
  capabilities: { kinds?: string[]; connectors?: string[]; maxInFlight?: number; [k: string]: unknown };
  maxInFlight: number | null;
  lastSeenAt: string | null;
  revokedAt: string | null;
  live?: LiveSession | null;
  agentVersion?: string | null;
  paused?: boolean;
  pausedAt?: string | null;
  /** `pending`: paired under manual approval, given no work until approved. */
  approval?: 'pending' | 'approved' | 'rejected';
  /** Tags asked for at pairing (manual approval). */
  proposedTags?: string[];
  host?: { hostname: string | null; os: string | null; arch: string | null };
  createdAt?: string;
}

/** One security event of `GET /v1/orgs/:orgId/audit`. */
export interface AuditEvent {
  id: string;
  type: string;
  actor: { type: string; userId: string | null; email: string | null };
  agentId: string | null;
  details: Record<string, unknown>;
  clientAddress: string | null;
  createdAt: string;
}

/** `GET …/agents/:agentId`: the agent plus the jobs it runs now. */
export interface AgentDetail extends AgentView {
  currentJobs: CurrentJob[];
}

/** One finished node attempt of an agent (`GET …/agents/:agentId/jobs`). */
export interface AgentJob {
  runId: string;
  workflowId: string;
  nodeId: string;
  attempt: number;
  kind: string | null;
  status: 'succeeded' | 'failed';
  queuedMs: number | null;
  executingMs: number | null;
  totalMs: number | null;
  errorCode: string | null;
  finishedAt: string;
}

/** Filters of the agents list. */
export interface AgentFilter {
  status?: string;
  tag?: string;
  q?: string;
  includeRevoked?: boolean;
}

/** One node of a run (`GET …/runs/:runId`). */
export interface RunNode {
  id: string;
  type: string;
  status: string;
  attempts: number;
  agent: { id: string; name: string | null } | null;
  durations: { queuedMs: number | null; executingMs: number | null; totalMs: number | null } | null;
  error: { code: string; message: string } | null;
}

export interface RunDetail {
  id: string;
  workflowId: string;
  version: number;
  status: string;
  createdAt: string;
  finishedAt: string | null;
  error: unknown;
  nodes: RunNode[];
}

export interface AgentsList {
  agents: AgentView[];
  staleMs: number;
  live?: LiveStatus;
}

export interface Me {
  userId: string;
  email: string;
  memberships: Array<{ organizationId: string; name: string; role: 'owner' | 'admin' | 'member' }>;
}

export interface PairingToken {
  id: string;
  pairingToken: string;
  expiresAt: string;
}

/** A same-origin client bound to one access token. */
export function createApiClient(accessToken: string) {
  async function call<T>(method: string, path: string, options: { orgId?: string; body?: unknown } = {}): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${accessToken}`, accept: 'application/json' };
    if (options.orgId) headers['x-org-id'] = options.orgId;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        headers,
        credentials: 'omit',
        cache: 'no-store',
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
    } catch {
      throw new ApiCallError({ status: 0 });
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const b = (body ?? {}) as { code?: unknown; message?: unknown };
      throw new ApiCallError({
        status: res.status,
        code: typeof b.code === 'string' ? b.code : undefined,
        message: typeof b.message === 'string' ? b.message : undefined,
      });
    }
    return body as T;
  }
  const org = (orgId: string) => `/v1/orgs/${encodeURIComponent(orgId)}`;
  return {
    me: () => call<Me>('GET', '/v1/me'),
    agents: (orgId: string, filter: AgentFilter = {}) => {
      const q = new URLSearchParams();
      if (filter.status) q.set('status', filter.status);
      if (filter.tag) q.set('tag', filter.tag);
      if (filter.q) q.set('q', filter.q);
      if (filter.includeRevoked) q.set('includeRevoked', 'true');
      const query = q.toString();
      return call<AgentsList>('GET', `${org(orgId)}/agents${query ? `?${query}` : ''}`, { orgId });
    },
    agent: (orgId: string, agentId: string) => call<AgentDetail>('GET', `${org(orgId)}/agents/${encodeURIComponent(agentId)}`, { orgId }),
    jobs: (orgId: string, agentId: string, cursor?: string) =>
      call<{ jobs: AgentJob[]; nextCursor: string | null }>(
        'GET',
        `${org(orgId)}/agents/${encodeURIComponent(agentId)}/jobs?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { orgId },
      ),
    setPaused: (orgId: string, agentId: string, paused: boolean) =>
      call<{ agentId: string; paused: boolean; propagated: boolean }>(
        'POST',
        `${org(orgId)}/agents/${encodeURIComponent(agentId)}/${paused ? 'pause' : 'resume'}`,
        { orgId },
      ),
    approve: (orgId: string, agentId: string) =>
      call<{ agentId: string; tags: string[]; propagated: boolean }>(
        'POST',
        `${org(orgId)}/agents/${encodeURIComponent(agentId)}/approve`,
        {
          orgId,
        },
      ),
    reject: (orgId: string, agentId: string) =>
      call<{ agentId: string; propagated: boolean }>('POST', `${org(orgId)}/agents/${encodeURIComponent(agentId)}/reject`, { orgId }),
    audit: (orgId: string, agentId: string) =>
      call<{ events: AuditEvent[]; nextCursor: string | null }>(
        'GET',
        `${org(orgId)}/audit?limit=50&agentId=${encodeURIComponent(agentId)}`,
        {
          orgId,
        },
      ),
    run: (orgId: string, runId: string) => call<RunDetail>('GET', `${org(orgId)}/runs/${encodeURIComponent(runId)}`, { orgId }),
    createPairingToken: (orgId: string) => call<PairingToken>('POST', `${org(orgId)}/agents/pairing-tokens`, { orgId }),
    revoke: (orgId: string, agentId: string) =>
      call<{ agentId: string; status: string }>('POST', `${org(orgId)}/agents/${encodeURIComponent(agentId)}/revoke`, { orgId }),
    setTags: (orgId: string, agentId: string, tags: string[]) =>
      call<{ agentId: string; tags: string[] }>('PUT', `${org(orgId)}/agents/${encodeURIComponent(agentId)}/tags`, {
        orgId,
        body: { tags },
      }),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
