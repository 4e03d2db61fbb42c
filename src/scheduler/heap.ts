/**
 * A binary min-heap of due entries, keyed so an entry can be replaced or removed in O(log n)
 * (job changed, job deleted). The scheduler keeps one entry per job plus retry and sweep entries.
 */
export interface HeapEntry {
  key: string;
  dueMs: number;
}

export class KeyedHeap<T extends HeapEntry> {
  #items: T[] = [];
  #index = new Map<string, number>();

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  get(key: string): T | undefined {
    const i = this.#index.get(key);
    return i === undefined ? undefined : this.#items[i];
  }

  /** Inserts, or replaces the entry with the same key. */
  set(entry: T): void {
    const i = this.#index.get(entry.key);
    if (i === undefined) {
      this.#items.push(entry);
      this.#index.set(entry.key, this.#items.length - 1);
      this.#up(this.#items.length - 1);
    } else {
      this.#items[i] = entry;
      this.#down(this.#up(i));
    }
  }

  delete(key: string): boolean {
    const i = this.#index.get(key);
    if (i === undefined) return false;
    const last = this.#items.pop() as T;
    this.#index.delete(key);
    if (i < this.#items.length) {
      this.#items[i] = last;
      this.#index.set(last.key, i);
      this.#down(this.#up(i));
    }
    return true;
  }

  /** Removes and returns the earliest entry if it is due at or before `nowMs`. */
  popDue(nowMs: number): T | undefined {
    const top = this.#items[0];
    if (!top || top.dueMs > nowMs) return undefined;
    this.delete(top.key);
    return top;
  }

  #less(a: number, b: number): boolean {
    const x = this.#items[a] as T, y = this.#items[b] as T;
    return x.dueMs < y.dueMs || (x.dueMs === y.dueMs && x.key < y.key);
  }

  #swap(a: number, b: number): void {
    const x = this.#items[a] as T, y = this.#items[b] as T;
    this.#items[a] = y;
    this.#items[b] = x;
    this.#index.set(y.key, a);
    this.#index.set(x.key, b);
  }

  #up(i: number): number {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
    return i;
  }

  #down(i: number): void {
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < this.#items.length && this.#less(l, m)) m = l;
      if (r < this.#items.length && this.#less(r, m)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}
