// A small deterministic model check of dispatch: the worker fence, the leader's lease table and
// the worker's finish outbox driven together from seeds, through leader changes (term bumps), a
// deposed leader that keeps sending, duplicated / delayed / reordered / dropped messages and
// worker crashes with restarts from their persisted state, then a heal. It checks:
//   (a) at most one launch is accepted per execution id;
//   (b) no launch from an older term is accepted after a newer term was seen;
//   (c) after the heal every finish a worker reported reached a leader and got an outcome, and
//       every execution was made final exactly once (nothing left running);
//   (d) a run's record never changes once final (never both finished and lost);
//   (e) a lease lapses only after a full lease with no launch, no election and no heartbeat
//       listing it reaching the leader: a leader change never kills a run.
// Each check is shown to catch a broken variant (a fence that ignores terms, one that does not
// dedupe, a finish rule that always applies, an outbox that forgets what it sent, a new leader
// that does not grant fresh leases).
import { describe, expect, test } from "bun:test";
import { Prng } from "../src/lib/mod.ts";
import type { Execution } from "../src/state/mod.ts";
import {
  FinishOutbox,
  type FinishOutcome,
  finishOutcome,
  type FinishReport,
  type Launch,
  type LaunchDecision,
  LeaseTable,
  orphanReports,
  type OutboxEntry,
  type Position,
  type RunningRef,
  targetExecutionId,
  WorkerFence,
} from "../src/dispatch/mod.ts";

const opts = { leaseMs: 5_000, redispatchGraceMs: 2_000 };

/** The parts a variant may replace. */
interface FencePort {
  admit(l: Launch): LaunchDecision;
  observeTerm(term: number): boolean;
  obeysStop(term: number): boolean;
  settle(key: string, ack: Position): boolean;
  activeKeys(): string[];
  snapshot(): ReturnType<WorkerFence["snapshot"]>;
}
interface OutboxPort {
  enqueue(r: FinishReport): unknown;
  due(session: number, nowMs: number, resendMs?: number): OutboxEntry[];
  applied(key: string): unknown;
  has(key: string): boolean;
  keys(): string[];
  snapshot(): OutboxEntry[];
  readonly size: number;
}
interface Impl {
  fence(snapshot?: ReturnType<WorkerFence["snapshot"]>): FencePort;
  outbox(persisted?: OutboxEntry[]): OutboxPort;
  finish(existing: Execution | undefined, r: FinishReport): FinishOutcome;
  /** The new leader's lease table. */
  elect(running: RunningRef[], electedAtMs: number): LeaseTable;
}

const correct: Impl = {
  fence: (s) => new WorkerFence(s, 6),
  outbox: (p) => new FinishOutbox(p ?? [], 64),
  finish: finishOutcome,
  elect: (running, at) => LeaseTable.afterElection(running, at, opts),
};

/** Broken: compares nothing with the highest term seen. */
const termBlind: Impl = {
  ...correct,
  fence(s) {
    const inner = new WorkerFence(s, 6);
    return {
      admit: (l: Launch) => inner.admit({ ...l, term: Math.max(l.term, inner.highestTerm) }),
      observeTerm: (t: number) => inner.observeTerm(t),
      obeysStop: (t: number) => inner.obeysStop(Math.max(t, inner.highestTerm)),
      settle: (k: string, a: Position) => inner.settle(k, a),
      activeKeys: () => inner.activeKeys(),
      snapshot: () => inner.snapshot(),
    };
  },
};

/** Broken: forgets every id at once (a window of one that never refuses). */
const noDedupe: Impl = {
  ...correct,
  fence(s) {
    let inner = new WorkerFence(s, 6);
    return {
      admit(l: Launch) {
        const d = inner.admit(l);
        if (d.kind !== "duplicate") return d;
        const snap = inner.snapshot();
        snap.accepted = snap.accepted.filter((a) => a.key !== d.key);
        inner = new WorkerFence(snap, 6);
        return inner.admit(l);
      },
      observeTerm: (t: number) => inner.observeTerm(t),
      obeysStop: (t: number) => inner.obeysStop(t),
      settle: (k: string, a: Position) => inner.settle(k, a),
      activeKeys: () => inner.activeKeys(),
      snapshot: () => inner.snapshot(),
    };
  },
};

/** Broken: every finish overwrites the record. */
const alwaysApply: Impl = {
  ...correct,
  finish(existing, r) {
    const o = finishOutcome(existing && { ...existing, status: "running" }, r);
    return o;
  },
};

/** Broken: the new leader keeps counting leases from before the election. */
const noFreshLease: Impl = {
  ...correct,
  elect: (running, at) => LeaseTable.afterElection(running, at - opts.leaseMs, opts),
};

/** Broken: an entry leaves the outbox as soon as it is sent. */
const forgetOnSend: Impl = {
  ...correct,
  outbox(p) {
    const inner = new FinishOutbox(p ?? [], 64);
    return {
      enqueue: (r: FinishReport) => inner.enqueue(r),
      due(session: number, nowMs: number, resendMs?: number) {
        const out = inner.due(session, nowMs, resendMs);
        for (const e of out) inner.applied(e.key);
        return out;
      },
      applied: (k: string) => inner.applied(k),
      has: (k: string) => inner.has(k),
      keys: () => inner.keys(),
      snapshot: () => inner.snapshot(),
      get size() {
        return inner.size;
      },
    };
  },
};

type Msg =
  | { to: string; kind: "launch"; launch: Launch }
  | { to: string; kind: "stop"; term: number; key: string }
  | { to: string; kind: "ack"; key: string; term: number; seq: number }
  | { to: "leader"; kind: "finish"; term: number; report: FinishReport }
  | { to: "leader"; kind: "heartbeat"; term: number; node: string; held: string[] };

interface Worker {
  name: string;
  alive: boolean;
  fence: FencePort;
  outbox: OutboxPort;
  /** key → ticks left */
  running: Map<string, number>;
  session: number;
  sessionTerm: number;
  /** The model's own record of the highest term this worker was shown. */
  seenMax: number;
  deadSinceMs: number | null;
  declaredDead: boolean;
}

const resendMs = 3_000;
const tickMs = 1_000;

interface Run {
  violations: string[];
  stats: {
    fires: number;
    accepted: number;
    fenced: number;
    lost: number;
    finished: number;
    elections: number;
  };
}

function runModel(seed: number, impl: Impl, steps = 400): Run {
  const prng = new Prng(seed);
  const chance = (p: number) => prng.next() < p;
  const violations: string[] = [];
  const fail = (m: string) => {
    if (violations.length < 5) violations.push(`seed ${seed}: ${m}`);
  };
  const stats = { fires: 0, accepted: 0, fenced: 0, lost: 0, finished: 0, elections: 0 };
  let now = 0;
  let term = 1;
  /** The leaders' message counter: each launch and acknowledgement takes the next value. */
  let seq = 0;
  let leases = new LeaseTable(opts);
  /** The deposed leader's term and the launches it still holds (a paused leader waking up). */
  let stale = null as { term: number; keys: string[] } | null;
  const state = new Map<string, Execution>();
  const acceptedTimes = new Map<string, number>();
  const reportsSent = new Map<string, string>(); // report id → key
  const outcomeOf = new Map<string, string>(); // report id → first outcome kind
  /** key → last time the current leader had reason to think it alive (launch, election,
   * heartbeat listing it): the model's own account, independent of the lease table. */
  const evidence = new Map<string, number>();
  const net: Msg[] = [];
  let faults = true;

  const workers: Worker[] = ["w1", "w2", "w3"].map((name) => ({
    name,
    alive: true,
    fence: impl.fence(),
    outbox: impl.outbox(),
    running: new Map(),
    session: 0,
    sessionTerm: 0,
    seenMax: 0,
    deadSinceMs: null,
    declaredDead: false,
  }));
  const byName = new Map(workers.map((w) => [w.name, w]));
  const reportId = (r: FinishReport) => `${r.job}/${r.executionId}|${r.status}|${r.finishedAtMs}`;

  const write = (key: string, e: Execution) => {
    const before = state.get(key);
    if (before && before.status !== "running") {
      fail(`${key} was ${before.status} and became ${e.status} (final twice)`);
    }
    state.set(key, e);
  };

  const applyFinish = (r: FinishReport): FinishOutcome => {
    const key = `${r.job}/${r.executionId}`;
    const o = impl.finish(state.get(key), r);
    if (o.kind === "apply") {
      if (r.status !== "lost") stats.finished++;
      write(key, o.execution);
      leases.settled(key);
    }
    return o;
  };

  const fire = () => {
    const candidates = workers.filter((w) => !w.declaredDead);
    if (candidates.length === 0) return;
    const w = candidates[prng.int(0, candidates.length)] as Worker;
    const slot = 1_000 + stats.fires++;
    const id = targetExecutionId(slot, 1, w.name);
    const key = `job/${id}`;
    state.set(key, {
      id,
      job_name: "job",
      group: slot,
      attempt: 1,
      status: "running",
      started_at: now,
      finished_at: null,
      success: false,
      node_name: w.name,
      exit_code: null,
      output_size: 0,
      output_tail: "",
      reason: "",
      lease_until: null,
    });
    leases.grant({ job: "job", executionId: id, node: w.name }, now);
    evidence.set(key, now);
    net.push({
      to: w.name,
      kind: "launch",
      launch: { term, seq: ++seq, job: "job", executionId: id },
    });
  };

  const elect = () => {
    const running = [...state.values()].filter((e) => e.status === "running");
    stale = { term, keys: running.map((e) => `job/${e.id}`) };
    term++;
    stats.elections++;
    leases = impl.elect(
      running.map((e) => ({ job: "job", executionId: e.id, node: e.node_name })),
      now,
    );
    for (const e of running) evidence.set(`job/${e.id}`, now);
  };

  const connect = (w: Worker) => {
    w.session++;
    w.sessionTerm = term;
    w.seenMax = Math.max(w.seenMax, term);
    w.fence.observeTerm(term);
  };

  const crash = (w: Worker) => {
    w.alive = false;
    w.running.clear(); // the processes die with it
    w.deadSinceMs = now;
  };

  const restart = (w: Worker) => {
    // Only what was persisted survives: the fence and the outbox, through their snapshots.
    w.fence = impl.fence(structuredClone(w.fence.snapshot()));
    w.outbox = impl.outbox(structuredClone(w.outbox.snapshot()));
    w.alive = true;
    w.deadSinceMs = null;
    w.declaredDead = false;
    w.sessionTerm = 0;
    for (const r of orphanReports(w.fence.activeKeys(), w.outbox, new Set(), w.name, now)) {
      w.outbox.enqueue(r);
      reportsSent.set(reportId(r), `${r.job}/${r.executionId}`);
    }
  };

  const onWorker = (w: Worker, m: Msg) => {
    if (!w.alive) return;
    switch (m.kind) {
      case "launch": {
        const before = w.seenMax;
        const d = w.fence.admit(m.launch);
        if (d.kind === "accept") {
          const key = d.key;
          acceptedTimes.set(key, (acceptedTimes.get(key) ?? 0) + 1);
          if ((acceptedTimes.get(key) ?? 0) > 1) fail(`${key} accepted twice`);
          if (m.launch.term < before) {
            fail(`${w.name} accepted ${key} from term ${m.launch.term} after seeing ${before}`);
          }
          stats.accepted++;
          w.running.set(key, 1 + prng.int(0, 4));
        } else if (d.kind === "stale_term") stats.fenced++;
        w.seenMax = Math.max(w.seenMax, m.launch.term);
        return;
      }
      case "stop": {
        if (!w.fence.obeysStop(m.term)) return;
        w.seenMax = Math.max(w.seenMax, m.term);
        if (!w.running.delete(m.key)) return;
        const [job, id] = [m.key.slice(0, m.key.indexOf("/")), m.key.slice(m.key.indexOf("/") + 1)];
        const r: FinishReport = {
          job,
          executionId: id,
          node: w.name,
          status: "lost",
          exitCode: null,
          startedAtMs: null,
          finishedAtMs: now,
          outputSize: 0,
          outputTail: "",
          reason: "stopped: declared lost",
        };
        w.outbox.enqueue(r);
        reportsSent.set(reportId(r), m.key);
        return;
      }
      case "ack":
        w.outbox.applied(m.key);
        w.fence.settle(m.key, { term: m.term, seq: m.seq });
        return;
      default:
        return;
    }
  };

  const onLeader = (m: Msg) => {
    if (m.kind === "finish") {
      if (m.term !== term) return; // sent to a deposed leader: not applied, resent later
      const o = applyFinish(m.report);
      const id = reportId(m.report);
      if (!outcomeOf.has(id)) outcomeOf.set(id, o.kind);
      net.push({
        to: m.report.node,
        kind: "ack",
        key: `${m.report.job}/${m.report.executionId}`,
        term,
        seq: ++seq,
      });
    } else if (m.kind === "heartbeat") {
      if (m.term !== term) return;
      for (const k of m.held) if (state.get(k)?.node_name === m.node) evidence.set(k, now);
      const reply = leases.heartbeat(m.node, m.held, now, (k) => {
        const e = state.get(k);
        return e && { status: e.status, node: e.node_name };
      });
      for (const s of reply.stop) net.push({ to: m.node, kind: "stop", term, key: s.key });
      for (const k of reply.redispatch) {
        const e = state.get(k);
        if (e) {
          net.push({
            to: m.node,
            kind: "launch",
            launch: { term, seq: ++seq, job: "job", executionId: e.id },
          });
        }
      }
    }
  };

  const deliver = () => {
    if (net.length === 0) return;
    const i = faults ? prng.int(0, net.length) : 0; // reordered while faulty, FIFO once healed
    const m = net[i] as Msg;
    if (faults && chance(0.1)) {
      // duplicated: the copy stays in flight
    } else net.splice(i, 1);
    if (faults && chance(0.1)) return; // dropped
    if (m.to === "leader") onLeader(m);
    else onWorker(byName.get(m.to) as Worker, m);
  };

  const tick = () => {
    now += tickMs;
    for (const w of workers) {
      if (!w.alive) {
        if (!w.declaredDead && w.deadSinceMs !== null && now - w.deadSinceMs >= 3_000) {
          w.declaredDead = true; // gossip's verdict
          for (const d of leases.nodeDead(w.name)) {
            if (
              applyFinish(lostReport(d.job, d.executionId, d.node, now, d.reason)).kind === "apply"
            ) {
              stats.lost++;
            }
            leases.settled(d.key);
          }
        }
        continue;
      }
      for (const [key, left] of [...w.running]) {
        if (left > 1) {
          w.running.set(key, left - 1);
          continue;
        }
        w.running.delete(key);
        const slash = key.indexOf("/");
        const r: FinishReport = {
          job: key.slice(0, slash),
          executionId: key.slice(slash + 1),
          node: w.name,
          status: chance(0.8) ? "success" : "failed",
          exitCode: 0,
          startedAtMs: null,
          finishedAtMs: now,
          outputSize: 0,
          outputTail: "",
          reason: "",
        };
        w.outbox.enqueue(r);
        reportsSent.set(reportId(r), key);
      }
      if (w.sessionTerm === 0) continue; // no session yet
      for (const e of w.outbox.due(w.session, now, resendMs)) {
        net.push({ to: "leader", kind: "finish", term: w.sessionTerm, report: e.report });
      }
      const held = [...new Set([...w.running.keys(), ...w.outbox.keys()])];
      net.push({ to: "leader", kind: "heartbeat", term: w.sessionTerm, node: w.name, held });
    }
    for (const d of leases.expired(now)) {
      const heard = evidence.get(d.key) ?? -Infinity;
      if (now - heard < opts.leaseMs) {
        fail(`${d.key} lapsed at ${now} though the leader heard of it at ${heard}`);
      }
      if (applyFinish(lostReport(d.job, d.executionId, d.node, now, d.reason)).kind === "apply") {
        stats.lost++;
      }
      leases.settled(d.key);
    }
  };

  for (const w of workers) connect(w);
  for (let step = 0; step < steps; step++) {
    const r = prng.next();
    if (r < 0.1) fire();
    else if (r < 0.7) deliver();
    else if (r < 0.82) tick();
    else if (r < 0.84) elect();
    else if (r < 0.92) {
      const w = workers[prng.int(0, workers.length)] as Worker;
      if (w.alive && w.sessionTerm !== term) connect(w);
    } else if (r < 0.94) {
      const w = workers[prng.int(0, workers.length)] as Worker;
      if (w.alive) crash(w);
      else restart(w);
    } else if (stale && stale.keys.length > 0) {
      // The deposed leader wakes up and sends a launch it still holds, with its old term.
      const key = stale.keys[prng.int(0, stale.keys.length)] as string;
      const e = state.get(key);
      if (e) {
        net.push({
          to: e.node_name,
          kind: "launch",
          launch: { term: stale.term, seq: ++seq, job: "job", executionId: e.id },
        });
      }
    }
  }

  // Heal: no more faults, dead workers restart, everyone talks to the current leader.
  faults = false;
  stale = null;
  for (const w of workers) if (!w.alive) restart(w);
  for (let round = 0; round < 200; round++) {
    for (const w of workers) if (w.sessionTerm !== term) connect(w);
    while (net.length > 0) deliver();
    const busy = workers.some((w) => w.running.size > 0 || w.outbox.size > 0) ||
      [...state.values()].some((e) => e.status === "running");
    if (!busy) break;
    tick();
  }

  // (c) every finish reported reached a leader and got an outcome; all records final, once.
  for (const [id, key] of reportsSent) {
    if (!outcomeOf.has(id)) fail(`the finish ${id} of ${key} never reached a leader`);
  }
  for (const [key, e] of state) {
    if (e.status === "running") fail(`${key} is still running after the heal`);
  }
  for (const w of workers) {
    if (w.outbox.size > 0) fail(`${w.name} still holds ${w.outbox.keys().join(", ")}`);
  }
  return { violations, stats };
}

function lostReport(
  job: string,
  executionId: string,
  node: string,
  nowMs: number,
  reason: string,
): FinishReport {
  return {
    job,
    executionId,
    node,
    status: "lost",
    exitCode: null,
    startedAtMs: null,
    finishedAtMs: nowMs,
    outputSize: 0,
    outputTail: "",
    reason,
  };
}

const seeds = Array.from({ length: 300 }, (_, i) => i + 1);

function firstViolations(impl: Impl): string[] {
  const out: string[] = [];
  for (const s of seeds) {
    out.push(...runModel(s, impl).violations);
    if (out.length > 0) break;
  }
  return out;
}

describe("dispatch model", () => {
  test("fence + leases + outbox keep every invariant over 300 seeds", () => {
    const total = { fires: 0, accepted: 0, fenced: 0, lost: 0, finished: 0, elections: 0 };
    for (const s of seeds) {
      const r = runModel(s, correct);
      expect(r.violations).toEqual([]);
      for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += r.stats[k];
    }
    // The schedules did exercise what the checks are about.
    expect(total.fenced).toBeGreaterThan(0);
    expect(total.lost).toBeGreaterThan(0);
    expect(total.finished).toBeGreaterThan(1_000);
    expect(total.elections).toBeGreaterThan(100);
    expect(total.accepted).toBeGreaterThan(1_000);
  }, 60_000); // ~0.4 s alone; the box is shared, so leave room

  test("the same seed replays the same run", () => {
    expect(runModel(17, correct)).toEqual(runModel(17, correct));
  });

  test("(b) is caught: a fence that ignores terms accepts a deposed leader's launch", () => {
    expect(firstViolations(termBlind).join("\n")).toMatch(/accepted .* from term \d+ after seeing/);
  });

  test("(a) is caught: a fence that does not dedupe accepts an id twice", () => {
    expect(firstViolations(noDedupe).join("\n")).toMatch(/accepted twice/);
  });

  test("(d) is caught: a finish rule that always applies makes a record final twice", () => {
    expect(firstViolations(alwaysApply).join("\n")).toMatch(/final twice/);
  });

  test("(e) is caught: a new leader without fresh leases loses runs that are alive", () => {
    expect(firstViolations(noFreshLease).join("\n")).toMatch(
      /lapsed at \d+ though the leader heard/,
    );
  });

  test("(c) is caught: an outbox that forgets what it sent loses finishes", () => {
    expect(firstViolations(forgetOnSend).join("\n")).toMatch(/never reached a leader/);
  });
});
