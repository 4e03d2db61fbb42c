/**
 * The one door for state changes: propose(command) on any server. The command gets a client
 * request id and goes into the Raft log through the leader: appended here when this server
 * leads, else forwarded to the leader over the RPC port. Either way the promise settles only
 * when THIS server has applied the entry, so a client reads its own write from the server it
 * wrote to. When the leader changes or a forward times out, the same envelope (same id) is
 * submitted again; apply deduplicates the id, so a write is never lost by a retry nor applied
 * twice. Rejects with apply()'s TockError, `overloaded` when too many wait (429), `timeout` when no
 * leader applied it in time (outcome unknown), or `unavailable` once closed.
 */
import { randomUUID } from "node:crypto";
import type { RaftShell } from "../consensus/mod.ts";
import { type Clock, isTockError, limits, type TimerHandle, TockError } from "../lib/mod.ts";
import type { NodeId } from "../raft/mod.ts";
import type { Command, Execution, Job } from "../state/mod.ts";
import type { AppliedItem } from "../store/mod.ts";

export interface Applied {
  job?: Job;
  execution?: Execution;
}

/** The one door for state changes, whatever backs it. */
export interface Proposer {
  propose(cmd: Command): Promise<Applied>;
}

/** What goes into a Raft entry: request id + command. */
export interface Envelope {
  readonly r: string;
  readonly c: Command;
}

/** What `currentOf` reads: the state as this server has applied it. */
export interface CurrentView {
  peekJob(name: string): Job | undefined;
  getExecution(job: string, id: string): Execution | undefined;
}

/**
 * The answer to a request that was applied without this server seeing its result (a
 * deduplicated retry, or one a snapshot covered): its subject as it is now. A deleted job has
 * no record left, so a delete answers with no job.
 */
export function currentOf(view: CurrentView): (cmd: Command) => Applied {
  const job = (name: string): Applied => {
    const j = view.peekJob(name);
    return j === undefined ? {} : { job: j };
  };
  const withExecution = (a: Applied, e: Execution | undefined): Applied => {
    const x = e === undefined ? undefined : view.getExecution(e.job_name, e.id);
    return x === undefined ? a : { ...a, execution: x };
  };
  return (cmd) => {
    switch (cmd.type) {
      case "job.upsert":
        return job(cmd.job.name);
      case "job.toggle":
        return job(cmd.name);
      case "executions.clear":
        return job(cmd.job);
      case "execution.start":
        return withExecution({}, cmd.execution);
      case "execution.finish":
        return withExecution(job(cmd.execution.job_name), cmd.execution);
      case "fire":
        return withExecution(job(cmd.job), cmd.executions.find((e) => e.status === "running"));
      case "execution.renew": {
        const e = view.getExecution(cmd.job, cmd.id);
        return e === undefined ? {} : { execution: e };
      }
      default:
        return {};
    }
  };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeEnvelope(e: Envelope): Uint8Array {
  return enc.encode(JSON.stringify(e));
}

export function decodeEnvelope(data: Uint8Array): Envelope {
  const v = JSON.parse(dec.decode(data)) as Partial<Envelope>;
  if (typeof v.r !== "string" || typeof v.c !== "object" || v.c === null) {
    throw new TockError("invalid", "malformed command envelope");
  }
  return v as Envelope;
}

/**
 * Sends an envelope to the leader; resolves once the leader applied it. `signal` aborts it when
 * the leader changed meanwhile (the write goes to the new one at once).
 */
export type Forward = (leader: NodeId, envelope: Uint8Array, signal: AbortSignal) => Promise<void>;

/**
 * Errors a leader answers a forward with before its log took the entry: the caller gets them
 * (overloaded is a 429 to retry later), nothing will apply. Any other kind is apply's refusal,
 * which this server sees itself when it applies the entry.
 */
const notAppended = new Set(["overloaded", "internal"]);
/** Errors after which the same envelope is sent again (to whoever leads then). */
const retryable = new Set(["not_leader", "unavailable", "timeout"]);

interface Waiter {
  rid: string;
  envelope: Uint8Array;
  resolve(a: Applied): void;
  reject(e: unknown): void;
  timer: TimerHandle;
  /** Set while the entry sits in this leader's log at (index, term). */
  at: { index: number; term: number } | undefined;
  /** Set while a forward to `leader` is in progress. */
  forward: { leader: NodeId; abort: AbortController } | undefined;
  /**
   * Set for a leader's own write (the scheduler's): the term it must be appended in. Such a
   * write is never forwarded nor resubmitted under another leader.
   */
  term: number | undefined;
}

export class Door implements Proposer {
  readonly #shell: RaftShell;
  readonly #clock: Clock;
  readonly #forward: Forward;
  readonly #waiters = new Map<string, Waiter>();
  /** Log index → request id of entries this server appended as leader. */
  readonly #byIndex = new Map<number, string>();
  #retryTimer: TimerHandle | undefined;
  #closed = false;

  readonly #current: (cmd: Command) => Applied;

  /**
   * `current` reads what a command's subject looks like now: the answer for a request that was
   * applied without this server seeing its result (a deduplicated retry, or one a snapshot
   * covered).
   */
  constructor(
    shell: RaftShell,
    clock: Clock,
    forward: Forward,
    current: (cmd: Command) => Applied,
  ) {
    this.#shell = shell;
    this.#clock = clock;
    this.#forward = forward;
    this.#current = current;
  }

  /** Commands proposed here and not applied yet. */
  get waiting(): number {
    return this.#waiters.size;
  }

  propose(cmd: Command): Promise<Applied> {
    const rid = randomUUID();
    return this.#propose(rid, encodeEnvelope({ r: rid, c: cmd }));
  }

  /**
   * A write only the leader of `term` may make (fires, scheduled starts, lost records): appended
   * to this server's log or refused with `not_leader`, never forwarded. Were it forwarded, a
   * deposed leader's fire would be applied by the new leader, whose own fire of that slot is
   * then refused while the deposed one is fenced from launching it: a missed run. Once this
   * server stops leading that term the write is refused with `not_leader` (its entry may still
   * commit; the new leader's scheduler starts after it and sees it).
   */
  proposeAsLeader(cmd: Command, term: number): Promise<Applied> {
    const rid = randomUUID();
    return this.#propose(rid, encodeEnvelope({ r: rid, c: cmd }), term);
  }

  /** A forwarded envelope, on the leader: appended here, resolves once applied here. */
  proposeEnvelope(envelope: Uint8Array): Promise<Applied> {
    return this.#propose(decodeEnvelope(envelope).r, envelope);
  }

  #propose(rid: string, envelope: Uint8Array, term?: number): Promise<Applied> {
    if (this.#closed) {
      return Promise.reject(
        new TockError("unavailable", "node is shutting down; the command was not applied"),
      );
    }
    const existing = this.#waiters.get(rid);
    if (existing !== undefined) {
      // The same request again (a follower's retry reached us twice): share the outcome.
      return new Promise((resolve, reject) => {
        const prev = { resolve: existing.resolve, reject: existing.reject };
        existing.resolve = (a) => (prev.resolve(a), resolve(a));
        existing.reject = (e) => (prev.reject(e), reject(e));
      });
    }
    // After the join above: a retry of a request already waiting adds no load.
    if (this.#waiters.size >= limits.proposalQueueMax) {
      return Promise.reject(
        new TockError(
          "overloaded",
          `node overloaded: ${limits.proposalQueueMax} commands are already waiting to apply; retry later`,
        ),
      );
    }
    return new Promise<Applied>((resolve, reject) => {
      const w: Waiter = {
        rid,
        envelope,
        resolve,
        reject,
        at: undefined,
        forward: undefined,
        term,
        timer: this.#clock.setTimer(this.#clock.nowMs() + limits.proposeTimeoutMs, () => {
          if (this.#waiters.get(rid) !== w) return;
          this.#settle(w);
          reject(
            new TockError(
              "timeout",
              `command not applied within ${limits.proposeTimeoutMs} ms (no leader reachable?); its outcome is unknown`,
            ),
          );
        }),
      };
      this.#waiters.set(rid, w);
      this.#submit(w);
    });
  }

  #settle(w: Waiter): void {
    this.#waiters.delete(w.rid);
    this.#clock.clearTimer(w.timer);
    if (w.at !== undefined) this.#byIndex.delete(w.at.index);
  }

  #submit(w: Waiter): void {
    if (
      this.#closed || this.#waiters.get(w.rid) !== w || w.forward !== undefined ||
      w.at !== undefined
    ) return;
    const shell = this.#shell;
    if (w.term !== undefined && (shell.role !== "leader" || shell.term !== w.term)) {
      this.#settle(w);
      w.reject(this.#notLeader(w.term));
      return;
    }
    if (shell.role === "leader") {
      const r = shell.propose(w.envelope);
      if (r.ok) {
        w.at = { index: r.index, term: r.term };
        this.#byIndex.set(r.index, w.rid);
        return;
      }
      if (w.term !== undefined || (r.reason !== "not_leader" && r.reason !== "transferring")) {
        this.#settle(w);
        w.reject(
          r.reason === "not_leader" || r.reason === "transferring"
            ? new TockError("not_leader", r.message)
            : new TockError(r.reason === "overloaded" ? "overloaded" : "unavailable", r.message),
        );
        return;
      }
    }
    const leader = shell.leader;
    if (leader === "" || leader === shell.id) {
      this.#retrySoon();
      return;
    }
    const forward = { leader, abort: new AbortController() };
    w.forward = forward;
    this.#forward(leader, w.envelope, forward.abort.signal).then(
      () => {
        // Applied on the leader; this server resolves the waiter when it applies it too.
        if (w.forward === forward) w.forward = undefined;
      },
      (e) => {
        // Superseded: aborted on a leader change, and already sent on.
        if (w.forward !== forward) return;
        w.forward = undefined;
        if (this.#waiters.get(w.rid) !== w) return;
        if (isTockError(e) && notAppended.has(e.kind)) {
          this.#settle(w);
          w.reject(e);
          return;
        }
        if (isTockError(e) && !retryable.has(e.kind)) {
          // The leader applied it and apply refused it: this server will see the same refusal
          // when it applies the entry, and the waiter settles then.
          return;
        }
        this.#retrySoon();
      },
    );
  }

  #notLeader(term: number): TockError {
    return new TockError(
      "not_leader",
      `no longer the leader of term ${term}: a leader's own write is not forwarded (its outcome is unknown if it was appended)`,
    );
  }

  /** Leadership changed (or may have): resubmit what is not in this leader's log. */
  leaderChanged(): void {
    const shell = this.#shell;
    for (const w of [...this.#waiters.values()]) {
      if (w.term !== undefined && (shell.role !== "leader" || shell.term !== w.term)) {
        this.#settle(w);
        w.reject(this.#notLeader(w.term));
        continue;
      }
      if (w.forward !== undefined && w.forward.leader !== shell.leader) {
        // The leader we forwarded to is gone (maybe silently): do not wait for its answer.
        w.forward.abort.abort();
        w.forward = undefined;
      }
      if (w.at !== undefined && shell.role !== "leader") {
        // Our entry may still commit under the new leader, or be truncated: submit again with
        // the same id; apply keeps whichever lands first.
        this.#byIndex.delete(w.at.index);
        w.at = undefined;
      }
    }
    this.#resubmitAll();
  }

  #retrySoon(): void {
    if (this.#retryTimer !== undefined || this.#closed) return;
    this.#retryTimer = this.#clock.setTimer(this.#clock.nowMs() + limits.leaderRetryMs, () => {
      this.#retryTimer = undefined;
      this.#resubmitAll();
    });
  }

  #resubmitAll(): void {
    for (const w of [...this.#waiters.values()]) this.#submit(w);
  }

  /** Settles waiters with what this server applied (called for every applied batch). */
  applied(items: readonly AppliedItem[]): void {
    for (const it of items) {
      const own = this.#byIndex.get(it.index);
      if (own !== undefined && own !== it.rid) {
        // Our entry at this index was replaced by a new leader's: submit it again.
        this.#byIndex.delete(it.index);
        const w = this.#waiters.get(own);
        if (w !== undefined) {
          w.at = undefined;
          this.#submit(w);
        }
      }
      if (it.rid === undefined) continue;
      const w = this.#waiters.get(it.rid);
      if (w === undefined) continue;
      this.#settle(w);
      const r = it.result;
      if (it.duplicate && it.cmd !== null) w.resolve(this.#current(it.cmd));
      else if (r === undefined || r.ok) {
        const applied: Applied = {};
        if (r?.ok && r.job !== undefined) applied.job = r.job;
        if (r?.ok && r.execution !== undefined) applied.execution = r.execution;
        w.resolve(applied);
      } else w.reject(r.error);
    }
  }

  /** These requests are committed but cannot apply here yet (disk full): tell their callers. */
  blocked(rids: readonly string[], error: TockError): void {
    for (const rid of rids) {
      const w = this.#waiters.get(rid);
      if (w === undefined) continue;
      this.#settle(w);
      w.reject(error);
    }
  }

  /**
   * A snapshot replaced the state: entries it covers are never applied here one by one, so
   * waiters whose request the snapshot holds are settled now (their results are not known).
   */
  reloaded(applied: (rid: string) => boolean): void {
    for (const w of [...this.#waiters.values()]) {
      if (!applied(w.rid)) continue;
      this.#settle(w);
      w.resolve(this.#current(decodeEnvelope(w.envelope).c));
    }
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.values()) w.forward?.abort.abort();
    if (this.#retryTimer !== undefined) this.#clock.clearTimer(this.#retryTimer);
    const err = new TockError("unavailable", "node is shutting down; the outcome is unknown");
    for (const w of [...this.#waiters.values()]) {
      this.#settle(w);
      w.reject(err);
    }
  }
}
