// Proves the door's retry contract on a fake clock: a forward that times out is sent again with
// the same request id, so when the leader had applied the first attempt after all, apply keeps
// one copy (the write is neither lost nor applied twice) and the caller gets one answer; and a
// write made while no leader is known waits, then goes to the leader once one is elected.
import { describe, expect, test } from "bun:test";
import type { RaftShell } from "../consensus/mod.ts";
import { FakeClock, limits, TockError } from "../lib/mod.ts";
import { loadRuntime } from "../runtime/mod.ts";
import { parseJobBody } from "../state/mod.ts";
import { type LogItem, SqliteStateStore } from "../store/mod.ts";
import { currentOf, decodeEnvelope, Door, encodeEnvelope } from "./door.ts";

/** The slice of the shell the door reads: a follower that knows (or not) a leader. */
function follower(leader: string) {
  return { role: "follower", leader, id: "f1", propose: () => ({ ok: false }) } as unknown as
    & RaftShell
    & { leader: string };
}

const job = parseJobBody({
  name: "a",
  schedule: "@every 1m",
  executor: "shell",
  executor_config: { command: "true" },
});

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

describe("door", () => {
  test("a forward that timed out is retried with the same id; apply keeps one copy", async () => {
    const rt = await loadRuntime();
    const store = new SqliteStateStore(rt.openDb(":memory:"));
    const clock = new FakeClock(0);
    const sent: Uint8Array[] = [];
    const door = new Door(follower("L"), clock, (_leader, env) => {
      sent.push(env);
      // The first attempt reached the leader and was applied, but its answer was lost.
      return sent.length === 1
        ? Promise.reject(new TockError("timeout", "forward timed out"))
        : Promise.resolve();
    }, currentOf(store));
    store.onAppliedBatch((items) => door.applied(items));
    let answers = 0;
    const p = door.propose({ type: "job.upsert", job }).then((a) => (answers++, a));
    await settle();
    clock.advance(limits.leaderRetryMs);
    await settle();
    expect(sent.length).toBe(2);
    expect(decodeEnvelope(sent[0]!).r).toBe(decodeEnvelope(sent[1]!).r);
    // The leader's log now holds both attempts; this server applies them in order.
    const items: LogItem[] = sent.map((e) => {
      const env = decodeEnvelope(e);
      return { cmd: env.c, rid: env.r };
    });
    const applied = store.applyLog(1, items);
    expect(applied.map((x) => x.duplicate)).toEqual([false, true]);
    expect((await p).job?.name).toBe("a");
    expect(answers).toBe(1);
    expect([...store.jobsView()].length).toBe(1);
  });

  test("with no leader known the write waits, then goes to the elected leader", async () => {
    const clock = new FakeClock(0);
    const shell = follower("");
    const sent: string[] = [];
    const door = new Door(shell, clock, (leader) => {
      sent.push(leader);
      return Promise.resolve();
    }, () => ({}));
    void door.propose({ type: "job.delete", name: "x" }).catch(() => {});
    clock.advance(limits.leaderRetryMs * 3);
    await settle();
    expect(sent).toEqual([]);
    shell.leader = "L2";
    door.leaderChanged();
    await settle();
    expect(sent).toEqual(["L2"]);
    door.close();
  });

  test("a write nobody applies in time fails as timeout (outcome unknown), not silently", async () => {
    const clock = new FakeClock(0);
    const door = new Door(follower(""), clock, () => Promise.resolve(), () => ({}));
    const p = door.propose({ type: "job.delete", name: "x" });
    clock.advance(limits.proposeTimeoutMs);
    await expect(p).rejects.toThrow("outcome is unknown");
  });

  test("a write a snapshot covered answers the stored job, not an empty record", async () => {
    const rt = await loadRuntime();
    const store = new SqliteStateStore(rt.openDb(":memory:"));
    const clock = new FakeClock(0);
    const sent: Uint8Array[] = [];
    const door = new Door(follower("L"), clock, (_l, env) => {
      sent.push(env);
      return Promise.resolve();
    }, currentOf(store));
    const created = door.propose({ type: "job.upsert", job });
    await settle();
    // The entry is applied, but through a snapshot: this door never sees its result.
    store.applyLog(1, [{ cmd: decodeEnvelope(sent[0]!).c, rid: decodeEnvelope(sent[0]!).r }]);
    door.reloaded((rid) => store.hasRequest(rid));
    expect((await created).job?.name).toBe("a");

    const toggled = door.propose({ type: "job.toggle", name: "a", next: null });
    await settle();
    store.applyLog(2, [{ cmd: decodeEnvelope(sent[1]!).c, rid: decodeEnvelope(sent[1]!).r }]);
    door.reloaded((rid) => store.hasRequest(rid));
    expect((await toggled).job?.disabled).toBe(true);
  });

  test("a retry the leader finds already applied answers the stored record", async () => {
    const rt = await loadRuntime();
    const store = new SqliteStateStore(rt.openDb(":memory:"));
    const clock = new FakeClock(0);
    let index = 0;
    const leader = {
      role: "leader",
      leader: "L",
      id: "L",
      propose: () => ({ ok: true, index: ++index, term: 1 }),
    } as unknown as RaftShell;
    const door = new Door(
      leader,
      clock,
      () => Promise.reject(new Error("no peers")),
      currentOf(store),
    );
    store.onAppliedBatch((items) => door.applied(items));
    const env = { r: "req-1", c: { type: "job.upsert" as const, job } };
    // The first attempt was applied (the follower's forward answer was lost) ...
    store.applyLog(1, [{ cmd: env.c, rid: env.r }]);
    // ... and the retry lands as a deduplicated entry.
    const retried = door.proposeEnvelope(encodeEnvelope(env));
    store.applyLog(2, [{ cmd: env.c, rid: env.r }]);
    expect((await retried).job?.name).toBe("a");
  });

  test("a deposed leader's scheduler write is refused with not_leader, never forwarded", async () => {
    const clock = new FakeClock(0);
    const shell = {
      role: "leader",
      term: 1,
      leader: "A",
      id: "A",
      propose: () => ({ ok: true, index: 5, term: 1 }),
    } as unknown as RaftShell & { role: string; term: number; leader: string };
    const forwarded: string[] = [];
    const door = new Door(shell, clock, (leader) => {
      forwarded.push(leader);
      return Promise.resolve();
    }, () => ({}));
    const fire = { type: "fire" as const, job: "a", slot: 60_000, next: null, executions: [] };
    const appended = door.proposeAsLeader(fire, 1);
    // Deposed before the entry applied: B leads term 2.
    shell.role = "follower";
    shell.term = 2;
    shell.leader = "B";
    door.leaderChanged();
    await expect(appended).rejects.toMatchObject({ kind: "not_leader" });
    // A write for a term this server no longer leads is refused at once.
    await expect(door.proposeAsLeader(fire, 1)).rejects.toMatchObject({ kind: "not_leader" });
    clock.advance(limits.leaderRetryMs * 3);
    await settle();
    expect(forwarded).toEqual([]);
    expect(door.waiting).toBe(0);
  });

  test("a forward to a leader that vanished is aborted on leader change; the new leader applies it", async () => {
    const rt = await loadRuntime();
    const store = new SqliteStateStore(rt.openDb(":memory:"));
    const clock = new FakeClock(0);
    const shell = follower("L1");
    const sent: { leader: string; env: Uint8Array; signal: AbortSignal }[] = [];
    const door = new Door(shell, clock, (leader, env, signal) => {
      sent.push({ leader, env, signal });
      // L1 went away silently: its answer never comes; only an abort ends the call.
      if (leader === "L1") {
        return new Promise((_r, reject) =>
          signal.addEventListener("abort", () => reject(new TockError("unavailable", "aborted")))
        );
      }
      return Promise.resolve();
    }, currentOf(store));
    store.onAppliedBatch((items) => door.applied(items));
    const p = door.propose({ type: "job.upsert", job });
    await settle();
    expect(sent.map((x) => x.leader)).toEqual(["L1"]);
    shell.leader = "L2";
    door.leaderChanged();
    await settle();
    expect(sent.map((x) => x.leader)).toEqual(["L1", "L2"]);
    expect(sent[0]!.signal.aborted).toBe(true);
    const env = decodeEnvelope(sent[1]!.env);
    store.applyLog(1, [{ cmd: env.c, rid: env.r }]);
    expect((await p).job?.name).toBe("a");
  });

  test("a leader's overloaded answer reaches the caller at once as overloaded (429)", async () => {
    const clock = new FakeClock(0);
    const door = new Door(
      follower("L"),
      clock,
      () => Promise.reject(new TockError("overloaded", "node overloaded: retry later")),
      () => ({}),
    );
    const p = door.propose({ type: "job.delete", name: "x" });
    // No clock advance: the caller is not left to wait for the propose timeout.
    await expect(p).rejects.toMatchObject({ kind: "overloaded" });
    expect(door.waiting).toBe(0);
  });

  test("a retry of a request already waiting joins it even when the queue is full", async () => {
    const clock = new FakeClock(0);
    let index = 0;
    const leader = {
      role: "leader",
      term: 1,
      leader: "L",
      id: "L",
      propose: () => ({ ok: true, index: ++index, term: 1 }),
    } as unknown as RaftShell;
    const door = new Door(leader, clock, () => Promise.reject(new Error("no peers")), () => ({}));
    const first = encodeEnvelope({ r: "req-0", c: { type: "job.delete", name: "x" } });
    const waiting = [door.proposeEnvelope(first)];
    for (let i = 1; i < limits.proposalQueueMax; i++) {
      waiting.push(door.proposeEnvelope(
        encodeEnvelope({ r: `req-${i}`, c: { type: "job.delete", name: "x" } }),
      ));
    }
    expect(door.waiting).toBe(limits.proposalQueueMax);
    const again = door.proposeEnvelope(first);
    door.applied([{ index: 1, rid: "req-0", cmd: null, result: { ok: true }, duplicate: false }]);
    await expect(again).resolves.toEqual({});
    await expect(waiting[0]).resolves.toEqual({});
    door.close();
    await Promise.allSettled(waiting);
  });
});
