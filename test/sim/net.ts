/**
 * A seeded, simulated network shared by the Raft and gossip simulators. Time is an abstract
 * integer (the caller's ticks or milliseconds). Every random choice comes from the Prng passed
 * in, so a run replays exactly from its seed.
 *
 * Faults: per-message drop and duplicate probability, a delay range (random delays reorder
 * messages), and directed link cuts, from which symmetric, one-way and bridge partitions are built.
 */
import { Prng } from "../../src/lib/mod.ts";

export interface NetConfig {
  /** Probability in [0, 1] that a message is lost. */
  dropRate: number;
  /** Probability in [0, 1] that a message is delivered twice. */
  duplicateRate: number;
  /** Delivery delay is uniform in [delayMin, delayMax] time units. */
  delayMin: number;
  delayMax: number;
}

export interface InFlight<M> {
  from: string;
  to: string;
  msg: M;
  deliverAt: number;
  /** Sequence number: ties in deliverAt deliver in send order. */
  seq: number;
}

export const calmNet: NetConfig = { dropRate: 0, duplicateRate: 0, delayMin: 1, delayMax: 1 };

export class SimNet<M> {
  readonly #prng: Prng;
  #config: NetConfig;
  #queue: InFlight<M>[] = [];
  #seq = 0;
  /** Directed cuts "from->to": a message on a cut link is dropped at send time. */
  #cut = new Set<string>();
  /** Counters for reports. */
  sent = 0;
  dropped = 0;
  duplicated = 0;
  delivered = 0;

  constructor(prng: Prng, config: NetConfig = calmNet) {
    this.#prng = prng;
    this.#config = config;
  }

  setConfig(config: NetConfig): void {
    this.#config = config;
  }

  /** Queues a message sent at time `now`; applies cuts, drop, duplicate and delay. */
  send(from: string, to: string, msg: M, now: number): void {
    this.sent++;
    if (this.#cut.has(`${from}->${to}`) || this.#prng.next() < this.#config.dropRate) {
      this.dropped++;
      return;
    }
    const copies = this.#prng.next() < this.#config.duplicateRate ? 2 : 1;
    if (copies === 2) this.duplicated++;
    for (let i = 0; i < copies; i++) {
      const { delayMin, delayMax } = this.#config;
      const deliverAt = now + delayMin + Math.floor(this.#prng.next() * (delayMax - delayMin + 1));
      this.#queue.push({ from, to, msg, deliverAt, seq: this.#seq++ });
    }
  }

  /** Removes and returns every message due at or before `now`, in delivery order. */
  deliverDue(now: number): InFlight<M>[] {
    const due: InFlight<M>[] = [];
    const rest: InFlight<M>[] = [];
    for (const m of this.#queue) (m.deliverAt <= now ? due : rest).push(m);
    this.#queue = rest;
    due.sort((a, b) => a.deliverAt - b.deliverAt || a.seq - b.seq);
    // A link cut while the message was in flight loses it too.
    const out = due.filter((m) => !this.#cut.has(`${m.from}->${m.to}`));
    this.dropped += due.length - out.length;
    this.delivered += out.length;
    return out;
  }

  /** Earliest pending delivery time, or undefined when nothing is in flight. */
  nextDeliveryAt(): number | undefined {
    let min: number | undefined;
    for (const m of this.#queue) if (min === undefined || m.deliverAt < min) min = m.deliverAt;
    return min;
  }

  /** Drops every in-flight message to or from `node` (a crash loses its sockets). */
  dropFor(node: string): void {
    const before = this.#queue.length;
    this.#queue = this.#queue.filter((m) => m.from !== node && m.to !== node);
    this.dropped += before - this.#queue.length;
  }

  get inFlight(): number {
    return this.#queue.length;
  }

  /** Cuts the directed link from → to. */
  cutOneWay(from: string, to: string): void {
    this.#cut.add(`${from}->${to}`);
  }

  /** Splits nodes into groups that cannot talk across (symmetric partition). */
  partition(groups: string[][]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.#cut.add(`${x}->${y}`);
      }
    }
  }

  /** Bridge partition: `left` and `right` cannot talk, but both talk to `bridge`. */
  bridge(left: string[], bridgeNode: string, right: string[]): void {
    this.partition([left, right]);
    for (const x of [...left, ...right]) {
      this.#cut.delete(`${x}->${bridgeNode}`);
      this.#cut.delete(`${bridgeNode}->${x}`);
    }
  }

  /** Isolates one node from everyone in `all`. */
  isolate(node: string, all: string[]): void {
    for (const other of all) {
      if (other === node) continue;
      this.#cut.add(`${node}->${other}`);
      this.#cut.add(`${other}->${node}`);
    }
  }

  /** Removes every cut. */
  heal(): void {
    this.#cut.clear();
  }

  isCut(from: string, to: string): boolean {
    return this.#cut.has(`${from}->${to}`);
  }
}
