/**
 * The waiting room of queued dispatch: requests that found no eligible agent and may wait
 * (`queueTimeoutMs`). FIFO per organization, round robin across organizations. Pure data structure:
 * it never selects agents itself; the dispatcher passes a `place` callback that tries one request.
 */

/** What the queue needs of a waiting request. */
export interface QueueItem {
  readonly requestId: string;
  readonly organizationId: string;
  /**
   * Requests with the same routing key need the same agents (kind, connector, selector), so when the
   * head of one key cannot be placed none behind it can: a pump tries heads only, never scans.
   */
  readonly routeKey: string;
}

interface Entry<T> {
  item: T;
  /** Arrival order across the whole queue: FIFO inside an org compares heads of its keys by it. */
  seq: number;
  lane: Lane<T>;
}

/** One FIFO of an org (one routing key), as an array with a moving head (O(1) pop, compacted lazily). */
interface Lane<T> {
  key: string;
  items: Array<Entry<T> | null>;
  head: number;
  live: number;
}

interface OrgQueue<T> {
  lanes: Map<string, Lane<T>>;
  size: number;
}

/** Answer of {@link DispatchQueue.enqueue}. */
export type EnqueueResult = { ok: true; position: number } | { ok: false; reason: 'full' | 'duplicate' };

/**
 * Per-organization FIFO with a bound per org and round-robin service across orgs.
 *
 * Fair share: {@link DispatchQueue.pump} gives each org with new capacity at most one placement per
 * turn, so an org with 10,000 waiting requests delays another org's single request by at most one
 * placement, whatever the order in which capacity events arrive.
 */
export class DispatchQueue<T extends QueueItem> {
  private readonly orgs = new Map<string, OrgQueue<T>>();
  private readonly byId = new Map<string, Entry<T>>();
  private seq = 0;
  /** Orgs that got capacity and have not been served yet, in round-robin order. */
  private readonly ready = new Set<string>();
  private pumping = false;

  constructor(private readonly maxPerOrg: number) {}

  /** Requests waiting in all orgs. */
  get size(): number {
    return this.byId.size;
  }

  /** Requests waiting in one org. */
  depth(organizationId: string): number {
    return this.orgs.get(organizationId)?.size ?? 0;
  }

  has(requestId: string): boolean {
    return this.byId.has(requestId);
  }

  get(requestId: string): T | undefined {
    return this.byId.get(requestId)?.item;
  }

  /** Appends a request to its org's FIFO; refuses beyond `maxPerOrg` and a requestId already waiting. */
  enqueue(item: T): EnqueueResult {
    if (this.byId.has(item.requestId)) return { ok: false, reason: 'duplicate' };
    let org = this.orgs.get(item.organizationId);
    if ((org?.size ?? 0) >= this.maxPerOrg) return { ok: false, reason: 'full' };
    if (!org) {
      org = { lanes: new Map(), size: 0 };
      this.orgs.set(item.organizationId, org);
    }
    let lane = org.lanes.get(item.routeKey);
    if (!lane) {
      lane = { key: item.routeKey, items: [], head: 0, live: 0 };
      org.lanes.set(item.routeKey, lane);
    }
    const entry: Entry<T> = { item, seq: ++this.seq, lane };
    lane.items.push(entry);
    lane.live++;
    org.size++;
    this.byId.set(item.requestId, entry);
    return { ok: true, position: org.size };
  }

  /** Removes a waiting request (cancelled, timed out or placed). Returns it, or undefined. */
  remove(requestId: string): T | undefined {
    const entry = this.byId.get(requestId);
    if (!entry) return undefined;
    this.byId.delete(requestId);
    const { lane } = entry;
    const i = lane.items.indexOf(entry, lane.head);
    if (i >= 0) lane.items[i] = null;
    lane.live--;
    this.skipHoles(lane);
    const org = this.orgs.get(entry.item.organizationId);
    if (org) {
      org.size--;
      if (lane.live === 0) org.lanes.delete(lane.key);
      if (org.size === 0) {
        this.orgs.delete(entry.item.organizationId);
        this.ready.delete(entry.item.organizationId);
      }
    }
    return entry.item;
  }

  /** 1-based position of a waiting request within its org (requests of the org that arrived earlier + 1). */
  position(requestId: string): number | null {
    const entry = this.byId.get(requestId);
    if (!entry) return null;
    const org = this.orgs.get(entry.item.organizationId);
    let before = 0;
    for (const lane of org?.lanes.values() ?? []) {
      for (let i = lane.head; i < lane.items.length; i++) {
        const e = lane.items[i];
        if (!e) continue;
        if (e.seq >= entry.seq) break;
        before++;
      }
    }
    return before + 1;
  }

  /**
   * Capacity appeared for `organizationId` (an agent said hello, freed a slot, was resumed, …): place
   * its oldest placeable requests. Orgs marked while a pump runs are served in the same pump, one
   * placement per org per turn. `place` returns true when it sent the request to an agent (the queue
   * then drops it) and false when no agent can take it now. It must not throw.
   */
  pump(organizationId: string, place: (item: T) => boolean): number {
    if (!this.orgs.has(organizationId)) return 0;
    this.ready.add(organizationId);
    if (this.pumping) return 0; // the running pump serves it in its next turn
    this.pumping = true;
    let placed = 0;
    try {
      while (this.ready.size > 0) {
        // One turn: each ready org places at most one request, in the order they became ready.
        for (const org of [...this.ready]) {
          if (!this.ready.has(org)) continue;
          const item = this.oldestPlaceable(org, place);
          if (item) {
            placed++;
            this.remove(item.requestId);
            // Still has work: goes to the back of the ring, behind orgs that have not had a turn yet.
            if (this.orgs.has(org)) {
              this.ready.delete(org);
              this.ready.add(org);
            }
          } else this.ready.delete(org);
        }
      }
    } finally {
      this.pumping = false;
    }
    return placed;
  }

  /** Tries the head of each lane of the org, oldest first; returns the one placed, if any. */
  private oldestPlaceable(organizationId: string, place: (item: T) => boolean): T | undefined {
    const org = this.orgs.get(organizationId);
    if (!org) return undefined;
    const heads: Entry<T>[] = [];
    for (const lane of org.lanes.values()) {
      const head = lane.items[lane.head];
      if (head) heads.push(head);
    }
    heads.sort((a, b) => a.seq - b.seq);
    for (const head of heads) if (place(head.item)) return head.item;
    return undefined;
  }

  /** Every waiting request (for shutdown). */
  items(): T[] {
    return [...this.byId.values()].map((e) => e.item);
  }

  clear(): void {
    this.orgs.clear();
    this.byId.clear();
    this.ready.clear();
  }

  private skipHoles(lane: Lane<T>): void {
    while (lane.head < lane.items.length && lane.items[lane.head] === null) lane.head++;
    // Compact once the dead prefix dominates, so a long-lived lane does not grow without bound.
    if (lane.head > 64 && lane.head * 2 > lane.items.length) {
      lane.items = lane.items.slice(lane.head);
      lane.head = 0;
    }
  }
}
