/**
 * Cluster-wide gossip key rotation as internal queries (Serf's keymanager): the originator
 * broadcasts `_tock_install-key` / `_tock_use-key` / `_tock_remove-key` / `_tock_list-keys`
 * through the gossip core's queries, every member applies the operation to its own keyring and
 * answers ok or an error with its keys, and the originator aggregates the answers: how many
 * acknowledged, which failed and why, who did not answer before the deadline, and for every key
 * how many members hold it and use it as primary.
 *
 * Every node must attach (attachKeyringOps) right after startGossipNode, or it never answers
 * and is reported `missing`. Rotation without downtime: install K2 (every member decrypts with
 * K1 or K2) → use K2 (every member encrypts with K2; refused unless every member holds K2) →
 * remove K1 (refused where K1 is still the primary).
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Buffer } from "node:buffer";
import {
  GossipKeyRequestSchema,
  type GossipKeyResponse,
  GossipKeyResponseSchema,
} from "../gen/tock/v1/gossip_pb.ts";
import type { GossipCore, QueryEvent } from "../gossip/mod.ts";
import { assertNever, errorMessage, invalid, isTockError, limits, TockError } from "../lib/mod.ts";
import { Keyring, parseKey } from "./keyring.ts";

export type KeyringOp = "install" | "use" | "remove" | "list";

/** Query names of the keyring operations (internal: the "_tock_" prefix). */
export const keyringQueryNames: Record<KeyringOp, string> = {
  install: "_tock_install-key",
  use: "_tock_use-key",
  remove: "_tock_remove-key",
  list: "_tock_list-keys",
};

/** The aggregate answer of one keyring operation across the cluster. */
export interface KeyringResult {
  op: KeyringOp;
  /** Members alive when the operation started, this node included, plus any later member that answered (Serf NumNodes). */
  members: number;
  /** Members that answered, ok or not (Serf NumResp). */
  responses: number;
  /** Members that applied the operation (for list: that answered with their keys). */
  acks: number;
  /** Members that refused or failed: node name → why (Serf Messages; NumErr is its size). */
  errors: Record<string, string>;
  /** Members alive at the start that did not answer before the deadline, sorted. */
  missing: string[];
  /** Base64 key → members holding it (from every answer, after the operation). */
  keys: Record<string, number>;
  /** Base64 key → members using it as primary. */
  primaryKeys: Record<string, number>;
  /** Node name → its primary key after the operation. */
  primaryByNode: Record<string, string>;
  /** Node name → its keys after the operation, primary first. */
  keysByNode: Record<string, string[]>;
}

/** What keyring operations need from a gossip shell (GossipShell satisfies it). */
export interface QueryPort {
  readonly core: Pick<GossipCore, "query" | "respond" | "closeQuery" | "members" | "name"> & {
    readonly config: { readonly gossipIntervalMs: number };
  };
  readonly keyring: Keyring | undefined;
  onQuery(fn: (e: QueryEvent) => void): () => void;
}

export interface KeyringOpsOptions {
  /**
   * Called with the keys (base64, primary first) after every change this node applies, before
   * it answers ok: persist them here (writeKeyringFile). A throw makes this node answer with
   * that error, so the operator sees which node could not save its keyring.
   */
  persist?: (keys: string[]) => void;
  /**
   * Milliseconds (core time) to collect answers; default Serf's gossipInterval × 16 ×
   * ceil(log10(N + 1)), at least 1 s. An operation ends early once every member answered.
   */
  timeoutMs?: number;
}

/** Per-node answer text is cut to this many characters so an answer fits one datagram. */
const messageCharsMax = 200;

interface Pending {
  op: KeyringOp;
  expected: Set<string>;
  answers: Map<string, GossipKeyResponse | string>;
  resolve: (r: KeyringResult) => void;
}

function b64(key: Uint8Array): string {
  return Buffer.from(key).toString("base64");
}

/** The cluster-wide keyring API of one gossip node (what REST and the CLI call). */
export class KeyringOps {
  readonly #port: QueryPort;
  readonly #opts: KeyringOpsOptions;
  readonly #pending = new Map<number, Pending>();
  readonly #unsubscribe: () => void;

  constructor(port: QueryPort, opts: KeyringOpsOptions = {}) {
    this.#port = port;
    this.#opts = opts;
    this.#unsubscribe = port.onQuery((e) => this.#onQuery(e));
  }

  /** Every member's keys: key → holders, primary key → users. */
  list(): Promise<KeyringResult> {
    return this.#promise("list", "");
  }
  /** Installs `key` (base64) on every member for decryption. */
  install(key: string): Promise<KeyringResult> {
    return this.#promise("install", key);
  }
  /**
   * Makes `key` the primary on every member. Refused (conflict) before anything changes unless
   * every member answered a listing and holds the key: a member without it would stop
   * understanding the others and soon be declared failed.
   */
  use(key: string): Promise<KeyringResult> {
    return this.#promise("use", key);
  }
  /** Removes `key` from every member; each member refuses if it is still its primary. */
  remove(key: string): Promise<KeyringResult> {
    return this.#promise("remove", key);
  }

  /**
   * The callback form of the four operations, for synchronous drivers (the simulator): `done`
   * or `fail` runs inside the gossip turn that completes the operation. A malformed key
   * throws at once (invalid); a refused `use` calls `fail` with a conflict.
   */
  run(
    op: KeyringOp,
    key: string,
    done: (r: KeyringResult) => void,
    fail: (e: TockError) => void,
  ): void {
    const k = op === "list" ? "" : this.#checked(key);
    if (op !== "use") {
      this.#start(op, k, done);
      return;
    }
    this.#start("list", "", (listing) => {
      const refusal = useRefusal(listing, k);
      if (refusal !== undefined) {
        fail(refusal);
        return;
      }
      try {
        this.#start("use", k, done);
      } catch (e) {
        // Runs inside a gossip turn: an error here must reach the caller, not the shell.
        fail(isTockError(e) ? e : new TockError("internal", errorMessage(e)));
      }
    });
  }

  #promise(op: KeyringOp, key: string): Promise<KeyringResult> {
    return new Promise((resolve, reject) => this.run(op, key, resolve, reject));
  }

  /** Stops answering and abandons operations in flight (they resolve with what arrived). */
  close(): void {
    this.#unsubscribe();
    for (const [id, p] of this.#pending) {
      this.#port.core.closeQuery(id);
      this.#finish(id, p);
    }
  }

  #checked(key: string): string {
    if (typeof key !== "string" || key.trim() === "") throw invalid("gossip key is required");
    return b64(parseKey(key));
  }

  #start(op: KeyringOp, key: string, done: (r: KeyringResult) => void): void {
    const core = this.#port.core;
    const expected = new Set(
      core.members().filter((m) => m.state === "alive" || m.state === "suspect").map((m) => m.name),
    );
    expected.add(core.name);
    const payload = toBinary(GossipKeyRequestSchema, create(GossipKeyRequestSchema, { key }));
    const timeoutMs = this.#opts.timeoutMs ?? Math.max(
      1000,
      core.config.gossipIntervalMs * 16 * Math.ceil(Math.log10(expected.size + 1)),
    );
    const id = core.query(
      keyringQueryNames[op],
      payload,
      Math.min(timeoutMs, limits.gossipQueryTimeoutMsMax),
    );
    this.#pending.set(id, { op, expected, answers: new Map(), resolve: done });
  }

  #onQuery(e: QueryEvent): void {
    switch (e.type) {
      case "query": {
        const op = opOf(e.name);
        if (op === undefined) return;
        const answer = this.#apply(op, e.payload);
        try {
          this.#port.core.respond(e.from, e.id, toBinary(GossipKeyResponseSchema, answer));
        } catch (err) {
          // Past the deadline or forgotten: the originator counts us missing.
          console.error(`keyring: could not answer ${e.name} of ${e.from}: ${errorMessage(err)}`);
        }
        return;
      }
      case "queryResponse": {
        const p = this.#pending.get(e.id);
        if (p === undefined) return;
        p.answers.set(e.from, decodeAnswer(e.payload));
        if ([...p.expected].every((n) => p.answers.has(n))) {
          this.#port.core.closeQuery(e.id);
          this.#finish(e.id, p);
        }
        return;
      }
      case "queryDone": {
        const p = this.#pending.get(e.id);
        if (p !== undefined) this.#finish(e.id, p);
        return;
      }
      default:
        assertNever(e, "query event");
    }
  }

  /** Applies one operation to this node's keyring; never throws (errors become the answer). */
  #apply(op: KeyringOp, payload: Uint8Array): GossipKeyResponse {
    const ring = this.#port.keyring;
    const answer = (ok: boolean, message: string) => {
      const keys = ring?.keys().map(b64) ?? [];
      return create(GossipKeyResponseSchema, {
        ok,
        message: message.slice(0, messageCharsMax),
        keys,
        primaryKey: keys[0] ?? "",
      });
    };
    if (ring === undefined || ring.size === 0) {
      return answer(
        false,
        "gossip encryption is not enabled on this node (start it with --encrypt)",
      );
    }
    if (op === "list") return answer(true, "");
    let key: Uint8Array;
    try {
      key = parseKey(fromBinary(GossipKeyRequestSchema, payload).key);
    } catch (err) {
      return answer(false, `bad keyring request: ${errorMessage(err)}`);
    }
    try {
      // Apply to a copy and persist it first: a keyring that cannot be saved is not changed,
      // so memory and file never disagree after a restart.
      const next = new Keyring(ring.keys());
      applyOp(next, op, key);
      const before = ring.keys().map(b64).join(",");
      const after = next.keys().map(b64);
      if (after.join(",") !== before) this.#opts.persist?.(after);
      applyOp(ring, op, key);
      return answer(true, "");
    } catch (err) {
      return answer(false, errorMessage(err));
    }
  }

  #finish(id: number, p: Pending): void {
    this.#pending.delete(id);
    const r: KeyringResult = {
      op: p.op,
      // A member that joined after the start and answered counts too.
      members: new Set([...p.expected, ...p.answers.keys()]).size,
      responses: p.answers.size,
      acks: 0,
      errors: {},
      missing: [...p.expected].filter((n) => !p.answers.has(n)).sort(),
      keys: {},
      primaryKeys: {},
      primaryByNode: {},
      keysByNode: {},
    };
    for (const [node, a] of [...p.answers].sort(([x], [y]) => (x < y ? -1 : 1))) {
      if (typeof a === "string") {
        r.errors[node] = a;
        continue;
      }
      if (a.ok) r.acks++;
      else r.errors[node] = a.message;
      for (const k of a.keys) r.keys[k] = (r.keys[k] ?? 0) + 1;
      r.keysByNode[node] = [...a.keys];
      if (a.primaryKey !== "") {
        r.primaryKeys[a.primaryKey] = (r.primaryKeys[a.primaryKey] ?? 0) + 1;
        r.primaryByNode[node] = a.primaryKey;
      }
    }
    p.resolve(r);
  }
}

/** Why `use key` must not proceed given a fresh listing, or undefined when every member holds it. */
function useRefusal(listing: KeyringResult, key: string): TockError | undefined {
  const holders = listing.keys[key] ?? 0;
  const problems = [
    ...listing.missing.map((n) => `${n} did not answer`),
    ...Object.entries(listing.errors).map(([n, why]) => `${n}: ${why}`),
    ...Object.entries(listing.keysByNode).filter(([n, ks]) =>
      listing.errors[n] === undefined && !ks.includes(key)
    ).map(([n]) => `${n} lacks it`),
  ];
  if (holders >= listing.members && problems.length === 0) return undefined;
  return new TockError(
    "conflict",
    `gossip key not made primary: ${holders} of ${listing.members} members hold it${
      problems.length > 0 ? ` (${problems.join("; ")})` : ""
    }; install it everywhere first`,
  );
}

function applyOp(ring: Keyring, op: "install" | "use" | "remove", key: Uint8Array): void {
  if (op === "install") ring.install(key);
  else if (op === "use") ring.use(key);
  else ring.remove(key);
}

function opOf(name: string): KeyringOp | undefined {
  for (const [op, n] of Object.entries(keyringQueryNames)) if (n === name) return op as KeyringOp;
  return undefined;
}

function decodeAnswer(payload: Uint8Array): GossipKeyResponse | string {
  try {
    return fromBinary(GossipKeyResponseSchema, payload, { readUnknownFields: false });
  } catch (err) {
    return `undecodable keyring answer: ${errorMessage(err)}`;
  }
}

/** Attaches the keyring operations to a started gossip shell (call on every node). */
export function attachKeyringOps(port: QueryPort, opts: KeyringOpsOptions = {}): KeyringOps {
  return new KeyringOps(port, opts);
}
