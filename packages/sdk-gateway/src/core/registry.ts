import { type LruNode, LruPool } from './lru-pool.js';
import type { Session } from './session.js';

const SEP = '\u0000';
const orgKey = (org: string) => `o${SEP}${org}`;
const kindKey = (org: string, kind: string) => `k${SEP}${org}${SEP}${kind}`;
const tagKey = (org: string, tag: string) => `t${SEP}${org}${SEP}${tag}`;

const EMPTY: Iterable<Session> = [];

/**
 * Indexes ready sessions by organization, by (organization, kind) and by (organization, tag). Each
 * index is an LruPool (linked list) kept in least-recently-dispatched order (a dispatch moves the
 * session to the end in O(1)), so selection walks a small, pre-filtered, LRU-ordered pool instead of scanning
 * every agent.
 */
export class Registry {
  private readonly pools = new Map<string, LruPool<Session>>();
  /** agentId → its current (newest) ready session. */
  private readonly current = new Map<string, Session>();
  /** Every live connection, ready or not (for the stale sweep and shutdown). */
  readonly all = new Set<Session>();

  get readyCount(): number {
    return this.current.size;
  }

  bySession(): Iterable<Session> {
    return this.all;
  }

  currentFor(agentId: string): Session | undefined {
    return this.current.get(agentId);
  }

  orgPool(org: string): Iterable<Session> {
    return this.pools.get(orgKey(org)) ?? EMPTY;
  }

  kindPool(org: string, kind: string): Iterable<Session> {
    return this.pools.get(kindKey(org, kind)) ?? EMPTY;
  }

  tagPool(org: string, tag: string): Iterable<Session> {
    return this.pools.get(tagKey(org, tag)) ?? EMPTY;
  }

  /** Makes a session routable; returns the session it replaces (same agent), if any. */
  add(session: Session): Session | undefined {
    const previous = this.current.get(session.agentId);
    if (previous && previous !== session) this.unroute(previous);
    this.current.set(session.agentId, session);
    this.join(orgKey(session.organizationId), session);
    for (const kind of session.kinds) this.join(kindKey(session.organizationId, kind), session);
    for (const tag of session.tags) this.join(tagKey(session.organizationId, tag), session);
    return previous === session ? undefined : previous;
  }

  /** Takes a session out of routing. Clears the agent's entry only if it is still this session. */
  unroute(session: Session): void {
    for (const [key, node] of session.pools) this.leave(key, node.pool, node);
    session.pools.clear();
    if (this.current.get(session.agentId) === session) this.current.delete(session.agentId);
  }

  /** Replaces a session's control-plane tags; it stays routable without reconnecting. */
  retag(session: Session, tags: readonly string[]): void {
    const routable = this.current.get(session.agentId) === session;
    for (const tag of session.tags) {
      const key = tagKey(session.organizationId, tag);
      const node = session.pools.get(key);
      if (node) {
        this.leave(key, node.pool, node);
        session.pools.delete(key);
      }
    }
    session.tags = new Set(tags);
    if (routable) for (const tag of session.tags) this.join(tagKey(session.organizationId, tag), session);
  }

  /** Moves the session to the most-recently-used end of every pool it is in. */
  touch(session: Session): void {
    for (const node of session.pools.values()) node.pool.moveToEnd(node);
  }

  private join(key: string, session: Session): void {
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new LruPool();
      this.pools.set(key, pool);
    }
    const existing = session.pools.get(key);
    if (existing?.pool === pool) return;
    if (existing) existing.pool.remove(existing);
    session.pools.set(key, pool.push(session));
  }

  private leave(key: string, pool: LruPool<Session>, node: LruNode<Session>): void {
    pool.remove(node);
    // Empty pools are dropped so that org and tag churn does not leak map entries.
    if (pool.size === 0 && this.pools.get(key) === pool) this.pools.delete(key);
  }
}
