/**
 * The leader's lease table: which running executions are still alive. Pure, in the leader's
 * memory only, on a monotonic clock passed in (`nowMs` from the clock port's monotonic time).
 *
 * Why (the Dkron issues it avoids): Dkron keeps an execution "running" until its worker reports
 * back, so a worker or leader that dies leaves it running forever (#1483) and a `forbid` job
 * never runs again. Renewing a lease through Raft instead would cost one proposal per running
 * execution every few seconds (1,000 runs = 200 proposals/s). Here:
 *  - A worker's session heartbeat lists every execution it holds (running, or finished with the
 *    finish still in its outbox); the leader renews those leases in memory. Only start, finish
 *    and lost go through Raft.
 *  - A worker declared dead by gossip, or silent past its lease, has its executions decided
 *    lost (`nodeDead`, `expired`); the shell proposes them and their retries follow the job.
 *  - A new leader grants every running execution of the applied state a fresh lease from its
 *    election (`afterElection`): the leader change, not the worker, is why no renewal arrived,
 *    so a renewal failing because the leader changed never kills a run.
 *  - A worker reporting an execution whose lost record is applied (or one the state does not
 *    know) is told to stop it and report it; one not reporting an execution it should hold is sent the
 *    launch again with the same id (the worker's fence dedupes, and reports it lost if it
 *    accepted it once but no longer has it).
 */
import { limits } from "../lib/mod.ts";
import type { ExecutionStatus } from "../state/mod.ts";
import { launchKey, splitLaunchKey } from "./ids.ts";

/** A running execution as the applied state knows it. */
export interface RunningRef {
  job: string;
  executionId: string;
  node: string;
}

export interface LeaseEntry extends RunningRef {
  key: string;
  expiresAtMs: number;
  /** When its launch was last sent (or the election): re-dispatch waits a grace after it. */
  launchedAtMs: number;
  /** `losing`: decided lost, the lost record is being proposed. */
  state: "held" | "losing";
}

export interface LostDecision extends RunningRef {
  key: string;
  cause: "node_dead" | "lease_lapsed";
  /** The execution's `reason` text. */
  reason: string;
}

export interface HeartbeatReply {
  /** Leases extended to now + leaseMs. */
  renewed: string[];
  /** Stop these runs and report them (their record is, or is becoming, final without them). */
  stop: Array<{ key: string; reason: string }>;
  /** Launches to send again with the same id: held for this node, not reported by it. */
  redispatch: string[];
}

export interface LeaseOptions {
  leaseMs: number;
  redispatchGraceMs: number;
}

const defaults: LeaseOptions = {
  leaseMs: limits.leaseMs,
  redispatchGraceMs: limits.redispatchGraceMs,
};

export class LeaseTable {
  readonly #o: LeaseOptions;
  readonly #entries = new Map<string, LeaseEntry>();

  constructor(options: Partial<LeaseOptions> = {}) {
    this.#o = { ...defaults, ...options };
  }

  /** A new leader's table: every running execution gets a fresh lease from the election. */
  static afterElection(
    running: Iterable<RunningRef>,
    electedAtMs: number,
    options: Partial<LeaseOptions> = {},
  ): LeaseTable {
    const t = new LeaseTable(options);
    for (const r of running) t.grant(r, electedAtMs);
    return t;
  }

  /** A launch was sent (its fire or start is applied): its lease starts now. */
  grant(r: RunningRef, nowMs: number): LeaseEntry {
    const key = launchKey(r.job, r.executionId);
    const e: LeaseEntry = {
      job: r.job,
      executionId: r.executionId,
      node: r.node,
      key,
      expiresAtMs: nowMs + this.#o.leaseMs,
      launchedAtMs: nowMs,
      state: "held",
    };
    this.#entries.set(key, e);
    return e;
  }

  /**
   * A heartbeat from `node`'s session listing the launch keys it holds. `recordOf` reads the
   * applied state (undefined: no such execution, e.g. its job was deleted).
   */
  heartbeat(
    node: string,
    held: readonly string[],
    nowMs: number,
    recordOf: (key: string) => { status: ExecutionStatus; node: string } | undefined,
  ): HeartbeatReply {
    const reply: HeartbeatReply = { renewed: [], stop: [], redispatch: [] };
    const listed = new Set(held);
    for (const key of listed) {
      const e = this.#entries.get(key);
      if (e && e.node === node) {
        // Being recorded lost: no renewal, and no stop until the lost record is applied (a
        // leader deposed before it commits must not have killed a run nobody recorded lost).
        if (e.state === "losing") continue;
        e.expiresAtMs = Math.max(e.expiresAtMs, nowMs + this.#o.leaseMs);
        reply.renewed.push(key);
        continue;
      }
      if (e) {
        reply.stop.push({ key, reason: `the execution was placed on node ${e.node}` });
        continue;
      }
      const parts = splitLaunchKey(key);
      const rec = parts ? recordOf(key) : undefined;
      const status = rec?.status;
      if (rec && rec.node !== node) {
        reply.stop.push({ key, reason: `the execution was placed on node ${rec.node}` });
      } else if (parts && status === "running") {
        // Recorded as running on a node the table did not hear of yet: adopt it.
        this.grant({ job: parts.job, executionId: parts.id, node }, nowMs);
        reply.renewed.push(key);
      } else if (status === "lost") {
        reply.stop.push({ key, reason: "declared lost" });
      } else if (status === undefined) {
        reply.stop.push({ key, reason: "no such execution (its job was deleted?)" });
      }
      // success, failed, missed: already final; the worker drops it once its outbox is answered.
    }
    for (const e of this.#entries.values()) {
      if (e.node !== node || e.state !== "held" || listed.has(e.key)) continue;
      if (nowMs - e.launchedAtMs < this.#o.redispatchGraceMs) continue;
      e.launchedAtMs = nowMs;
      reply.redispatch.push(e.key);
    }
    return reply;
  }

  /** Gossip declared `node` dead: every execution it held is lost. */
  nodeDead(node: string): LostDecision[] {
    const out: LostDecision[] = [];
    for (const e of this.#entries.values()) {
      if (e.node !== node || e.state !== "held") continue;
      e.state = "losing";
      out.push(lost(e, "node_dead", `lost: node ${node} was declared dead by gossip`));
    }
    return out;
  }

  /** Executions whose lease lapsed by `nowMs` (their node stopped reporting them). */
  expired(nowMs: number): LostDecision[] {
    const out: LostDecision[] = [];
    for (const e of this.#entries.values()) {
      if (e.state !== "held" || e.expiresAtMs > nowMs) continue;
      e.state = "losing";
      out.push(
        lost(e, "lease_lapsed", `lost: node ${e.node} did not report it within its lease`),
      );
    }
    return out;
  }

  /** The lost record could not be proposed: keep it decided-lost-to-be and retry next sweep. */
  lostNotRecorded(key: string): void {
    const e = this.#entries.get(key);
    if (e && e.state === "losing") e.state = "held";
  }

  /** Its finish or lost record was applied: nothing left to lease. */
  settled(key: string): boolean {
    return this.#entries.delete(key);
  }

  get(key: string): LeaseEntry | undefined {
    const e = this.#entries.get(key);
    return e && { ...e };
  }

  get size(): number {
    return this.#entries.size;
  }
}

function lost(e: LeaseEntry, cause: LostDecision["cause"], reason: string): LostDecision {
  return { job: e.job, executionId: e.executionId, node: e.node, key: e.key, cause, reason };
}
