/**
 * The Raft operations membership and operators use: read the configuration, add a learner,
 * promote, remove, update an address, bootstrap, transfer leadership. A configuration change
 * resolves once it is committed (applied here), and rejects with a clear error otherwise.
 */
import type { RaftShell } from "../consensus/mod.ts";
import type { Clock, TimerHandle } from "../lib/mod.ts";
import { limits, TockError } from "../lib/mod.ts";
import type { Voter } from "../membership/mod.ts";
import type { ConfChange, NodeId } from "../raft/mod.ts";
import type { AddressBook } from "./address_book.ts";
import type { RaftAttachment, RaftOps, RaftView } from "./membership.ts";

/** Waits for this server's applied index to reach an index (or a deadline). */
export class AppliedWaiters {
  readonly #clock: Clock;
  #waiting: Array<{ index: number; resolve(): void; reject(e: unknown): void; t: TimerHandle }> =
    [];

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  wait(index: number, applied: number, what: string): Promise<void> {
    if (applied >= index) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = {
        index,
        resolve,
        reject,
        t: this.#clock.setTimer(this.#clock.nowMs() + limits.proposeTimeoutMs, () => {
          this.#waiting = this.#waiting.filter((x) => x !== w);
          reject(
            new TockError("timeout", `${what} not committed within ${limits.proposeTimeoutMs} ms`),
          );
        }),
      };
      this.#waiting.push(w);
    });
  }

  applied(applied: number): void {
    if (this.#waiting.length === 0) return;
    const done = this.#waiting.filter((w) => w.index <= applied);
    this.#waiting = this.#waiting.filter((w) => w.index > applied);
    for (const w of done) {
      this.#clock.clearTimer(w.t);
      w.resolve();
    }
  }
}

export interface RaftControlDeps {
  shell: RaftShell;
  /** Is this server up (gossip says alive)? Leadership is only handed to a live voter. */
  isLive?: (id: NodeId) => boolean;
  addresses: AddressBook;
  waiters: AppliedWaiters;
  appliedIndex(): number;
}

export class RaftControl implements RaftOps {
  readonly #d: RaftControlDeps;

  constructor(d: RaftControlDeps) {
    this.#d = d;
  }

  configuration(): RaftView {
    const st = this.#d.shell.status();
    const servers = [
      ...st.config.voters.map((id) => ({ id, voter: true })),
      ...st.config.learners.map((id) => ({ id, voter: false })),
    ].map((s) => ({
      ...s,
      address: this.#d.addresses.get(s.id) ?? "",
      match: st.progress[s.id]?.match ?? 0,
    }));
    return { servers, commitIndex: st.commit };
  }

  async #change(cc: ConfChange): Promise<void> {
    const r = this.#d.shell.proposeConfChange(cc);
    if (!r.ok) {
      throw new TockError(
        r.reason === "not_leader" ? "not_leader" : "conflict",
        `${cc.type} ${cc.node} refused: ${r.message}`,
        r.leader,
      );
    }
    await this.#d.waiters.wait(r.index, this.#d.appliedIndex(), `${cc.type} ${cc.node}`);
  }

  addLearner(id: string, address: string): Promise<void> {
    this.#d.addresses.set(id, address);
    return this.#change({ type: "addLearner", node: id });
  }

  promote(id: string): Promise<void> {
    return this.#change({ type: "addVoter", node: id });
  }

  async remove(id: string): Promise<void> {
    await this.#change({ type: "remove", node: id });
  }

  updateAddress(id: string, address: string): void {
    this.#d.addresses.set(id, address);
  }

  /** Other voters that could take leadership, best first: live ones, most caught up first. */
  handOffTargets(): NodeId[] {
    const st = this.#d.shell.status();
    const live = this.#d.isLive ?? (() => true);
    return st.config.voters
      .filter((v) => v !== st.id && live(v))
      .sort((a, b) => (st.progress[b]?.match ?? 0) - (st.progress[a]?.match ?? 0));
  }

  /** Hands leadership to `to` (or the best of handOffTargets()); resolves once done. */
  async transferLeadership(to: NodeId | undefined, waitMs: number, clock: Clock): Promise<NodeId> {
    const shell = this.#d.shell;
    const st = shell.status();
    if (st.role !== "leader") {
      throw new TockError(
        "not_leader",
        `this server is not the leader (leader: ${st.leader || "none"})`,
        st.leader,
      );
    }
    const others = st.config.voters.filter((v) => v !== st.id);
    const target = to ?? this.handOffTargets()[0];
    if (target === undefined) {
      throw new TockError(
        "conflict",
        others.length === 0
          ? "no other voter to hand leadership to"
          : `no other voter is alive to hand leadership to (voters: ${others.join(", ")})`,
      );
    }
    if (!others.includes(target)) throw new TockError("invalid", `${target} is not another voter`);
    if (!shell.transferLeadership(target)) {
      throw new TockError("conflict", `leadership transfer to ${target} could not start`);
    }
    const end = clock.monoMs() + waitMs;
    while (clock.monoMs() < end) {
      await new Promise<void>((r) => {
        const stop = clock.every(20, () => {
          stop();
          r();
        });
      });
      if (shell.role !== "leader") return target;
    }
    throw new TockError("timeout", `leadership did not move to ${target} within ${waitMs} ms`);
  }
}

/** What membership needs from Raft (bootstrap-expect, reconcile). */
export function raftAttachment(
  shell: RaftShell,
  control: RaftControl,
  addresses: AddressBook,
): RaftAttachment {
  return {
    ops: control,
    leadership: () => ({
      isLeader: shell.role === "leader",
      term: shell.term,
      leader: shell.leader,
    }),
    hasState: () => shell.hasState(),
    bootstrap: (voters: Voter[]) => {
      for (const v of voters) addresses.set(v.id, v.address);
      if (!shell.bootstrap({ voters: voters.map((v) => v.id), learners: [] })) {
        return Promise.reject(
          new TockError("conflict", "this server already holds a Raft configuration"),
        );
      }
      return Promise.resolve();
    },
  };
}
