/**
 * Filters of the agents list (`GET /v1/orgs/:orgId/agents?status=&tag=&q=&includeRevoked=`). Revoked
 * agents pile up over time, so they are hidden unless asked for (or filtered on).
 */
import { z } from 'zod';

/** Query of the agents list. @example `AgentListQuerySchema.parse({ status: 'online', q: 'build' })` */
export const AgentListQuerySchema = z.object({
  /** `paused` and `pending` (awaiting approval) are states beside online/offline, never of a revoked agent. */
  status: z.enum(['online', 'offline', 'revoked', 'paused', 'pending']).optional(),
  tag: z.string().trim().min(1).max(100).optional(),
  /** Case-insensitive text search over name, id, version, hostname and tags. */
  q: z.string().trim().max(200).optional(),
  includeRevoked: z.enum(['true', 'false']).default('false'),
});
/** @example `const f: AgentListQuery = { includeRevoked: 'false' }` */
export type AgentListQuery = z.infer<typeof AgentListQuerySchema>;

interface Filterable {
  id: string;
  name: string;
  status: string;
  paused: boolean;
  approval?: string;
  tags: string[];
  agentVersion: string | null;
  host: { hostname: string | null };
}

/** Whether an agent (after the live merge) passes the list filters. */
export function matchesFilter(a: Filterable, f: AgentListQuery): boolean {
  if (a.status === 'revoked' && f.includeRevoked !== 'true' && f.status !== 'revoked') return false;
  if (f.status === 'paused' || f.status === 'pending') {
    const flagged = f.status === 'paused' ? a.paused : a.approval === 'pending';
    if (!flagged || a.status === 'revoked') return false;
  } else if (f.status !== undefined && a.status !== f.status) return false;
  if (f.tag !== undefined && !a.tags.includes(f.tag)) return false;
  if (f.q) {
    const needle = f.q.toLowerCase();
    const hay = [a.name, a.id, a.agentVersion ?? '', a.host.hostname ?? '', ...a.tags].join('\n').toLowerCase();
    if (!hay.includes(needle)) return false;
  }
  return true;
}
