/** One membership of an item in one pool: the links live here, so a move never allocates. */
export interface LruNode<T> {
  readonly item: T;
  readonly pool: LruPool<T>;
  prev: LruNode<T> | undefined;
  next: LruNode<T> | undefined;
}

/**
 * An insertion-ordered pool with O(1) add, remove and move-to-end: an intrusive doubly linked list.
 * It replaces a `Set` whose delete + re-add per dispatch left holes that every later iteration had to
 * skip (selection cost grew with the pool's capacity: 16× at 10,000 agents); here iteration starts at
 * the least recently used member and touches only live entries.
 */
export class LruPool<T> implements Iterable<T> {
  private head: LruNode<T> | undefined;
  private tail: LruNode<T> | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Appends `item` at the most-recently-used end; keep the node to move or remove it later. */
  push(item: T): LruNode<T> {
    const node: LruNode<T> = { item, pool: this, prev: this.tail, next: undefined };
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.count++;
    return node;
  }

  remove(node: LruNode<T>): void {
    if (node.pool !== this) return;
    if (node.prev) node.prev.next = node.next;
    else if (this.head === node) this.head = node.next;
    else return; // already removed
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = undefined;
    node.next = undefined;
    this.count--;
  }

  /** Moves a member to the most-recently-used end. */
  moveToEnd(node: LruNode<T>): void {
    if (node.pool !== this || this.tail === node) return;
    this.remove(node);
    node.prev = this.tail;
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.count++;
  }

  /** Least recently used first. Bounded by the size at the start, even if the caller mutates the pool. */
  *[Symbol.iterator](): Iterator<T> {
    let node = this.head;
    for (let left = this.count; node && left > 0; left--) {
      const next = node.next;
      yield node.item;
      node = next;
    }
  }
}
