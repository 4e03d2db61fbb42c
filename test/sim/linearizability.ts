/**
 * A linearizability checker in the WGL / Porcupine style (Lowe; Horn & Kroening): histories of
 * operations with call and return times are partitioned by key and each partition is searched
 * for a sequential order that respects real time and the model, with a cache of
 * (linearized set, state) pairs to prune the search. Operations with an unknown outcome get
 * return time +∞ and the model accepts any output for them.
 */

/** One operation of a history. `ret` is Infinity for an unknown outcome (timeout, lost leader). */
export interface Operation<I, O> {
  readonly client: number;
  readonly input: I;
  readonly output: O | undefined;
  readonly call: number;
  readonly ret: number;
}

/** A sequential specification. States must be hashable to a string for the cache. */
export interface Model<S, I, O> {
  init(): S;
  /** Applies input with its recorded output (undefined when unknown); null when illegal. */
  step(state: S, input: I, output: O | undefined): S | null;
  key(state: S): string;
  /** Splits a history into independent parts (e.g. one per key). */
  partition?(ops: readonly Operation<I, O>[]): Operation<I, O>[][];
}

export type Verdict = "ok" | "illegal" | "timeout";

interface Node {
  /** Index of the operation; call entries point to their return node. */
  op: number;
  isCall: boolean;
  match: Node | undefined;
  prev: Node | undefined;
  next: Node | undefined;
}

/** Checks one partition. `budget` bounds the search steps (→ "timeout"). */
function checkPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  budget: number,
): Verdict {
  if (ops.length === 0) return "ok";
  type Ev = { op: number; isCall: boolean; time: number };
  const evs: Ev[] = [];
  ops.forEach((o, i) => {
    evs.push({ op: i, isCall: true, time: o.call });
    evs.push({ op: i, isCall: false, time: o.ret });
  });
  // Calls before returns on ties: overlapping at an instant counts as concurrent.
  evs.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  const head: Node = { op: -1, isCall: false, match: undefined, prev: undefined, next: undefined };
  let tail = head;
  const callNodes: Node[] = new Array(ops.length);
  const retNodes: Node[] = new Array(ops.length);
  for (const e of evs) {
    const n: Node = { op: e.op, isCall: e.isCall, match: undefined, prev: tail, next: undefined };
    tail.next = n;
    tail = n;
    if (e.isCall) callNodes[e.op] = n;
    else retNodes[e.op] = n;
  }
  for (let i = 0; i < ops.length; i++) (callNodes[i] as Node).match = retNodes[i];

  const unlink = (n: Node) => {
    (n.prev as Node).next = n.next;
    if (n.next) n.next.prev = n.prev;
  };
  const relink = (n: Node) => {
    (n.prev as Node).next = n;
    if (n.next) n.next.prev = n;
  };

  const linearized = new Uint8Array(ops.length);
  const cache = new Set<string>();
  const stack: Array<{ node: Node; state: S }> = [];
  let state = model.init();
  let entry = head.next;
  let steps = 0;
  while (head.next !== undefined) {
    if (++steps > budget) return "timeout";
    const cur = entry as Node;
    if (cur.isCall) {
      const o = ops[cur.op] as Operation<I, O>;
      const next = model.step(state, o.input, o.output);
      if (next !== null) {
        linearized[cur.op] = 1;
        const k = bitsKey(linearized) + "|" + model.key(next);
        if (!cache.has(k)) {
          cache.add(k);
          stack.push({ node: cur, state });
          state = next;
          unlink(cur);
          unlink(cur.match as Node);
          entry = head.next;
          continue;
        }
        linearized[cur.op] = 0;
      }
      entry = cur.next;
    } else {
      // A return whose operation could not be linearized yet: backtrack.
      const top = stack.pop();
      if (top === undefined) return "illegal";
      state = top.state;
      linearized[top.node.op] = 0;
      relink(top.node.match as Node);
      relink(top.node);
      entry = top.node.next;
    }
  }
  return "ok";
}

function bitsKey(bits: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bits.length; i += 16) {
    let v = 0;
    for (let j = i; j < Math.min(i + 16, bits.length); j++) v = (v << 1) | (bits[j] as number);
    s += String.fromCharCode(v + 1);
  }
  return s;
}

/** Checks a whole history; "illegal" as soon as one partition is. */
export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  budget = 5_000_000,
): Verdict {
  const parts = model.partition ? model.partition(history) : [[...history]];
  let verdict: Verdict = "ok";
  for (const p of parts) {
    const v = checkPartition(model, p, budget);
    if (v === "illegal") return "illegal";
    if (v === "timeout") verdict = "timeout";
  }
  return verdict;
}

/** Input of the KV test application's model. */
export type KvInput =
  | { readonly kind: "put"; readonly key: string; readonly value: string }
  | { readonly kind: "get"; readonly key: string };

/** Output: a get returns the value (null for absent); a put returns "ok". */
export type KvOutput = string | null;

/** Per-key register model of the replicated KV application; `undefined` is an absent key. */
export const kvModel: Model<string | undefined, KvInput, KvOutput> = {
  init: () => undefined,
  step(state, input, output) {
    if (input.kind === "put") return input.value;
    if (output === undefined) return state; // unknown read: any answer, no effect
    return output === (state ?? null) ? state : null;
  },
  key: (s) => (s === undefined ? "\u0000" : s),
  partition(ops) {
    const byKey = new Map<string, Operation<KvInput, KvOutput>[]>();
    for (const o of ops) {
      const list = byKey.get(o.input.key) ?? [];
      list.push(o);
      byKey.set(o.input.key, list);
    }
    return [...byKey.values()];
  },
};
