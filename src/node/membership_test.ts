// Proves the membership glue over real gossip shells on 127.0.0.1 (ephemeral ports), driven by a
// fake clock, against a fake Raft side (the Raft shell is wired elsewhere): node ids persist,
// retry-join re-resolves every attempt and gives up after retry-max, bootstrap-expect
// bootstraps identical voters, and the leader reconciles joins, promotions, failures, leaves
// and address changes one action at a time, stopping when it loses leadership.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeConfig } from "../gossip/mod.ts";
import { FakeClock } from "../lib/mod.ts";
import type { RaftServer, Voter } from "../membership/mod.ts";
import {
  gossipConfigFor,
  loadOrCreateNodeId,
  Membership,
  type MembershipEvent,
  type MembershipOptions,
  type RaftAttachment,
  readPeersJson,
  removePeersJson,
  resolveSeeds,
} from "./membership.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-membership-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const running: Membership[] = [];
afterEach(() => {
  for (const m of running.splice(0)) m.stop();
});

/** Advances the fake clock 10 ms at a time, letting real socket IO run, until `cond` holds. */
async function runUntil(clock: FakeClock, cond: () => boolean, what: () => string) {
  const deadline = performance.now() + 25_000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    clock.advance(10);
    await new Promise((r) => setTimeout(r, 1));
  }
}

let incarnation = 1;
async function start(
  name: string,
  clock: FakeClock,
  o: Partial<MembershipOptions> = {},
): Promise<Membership> {
  const m = await Membership.start({
    nodeName: name,
    nodeId: `id-${name}`,
    server: true,
    bootstrapExpect: 0,
    region: "global",
    datacenter: "dc1",
    version: "test",
    tags: {},
    bindHost: "127.0.0.1",
    bindPort: 0,
    advertiseHost: "",
    advertisePort: 0,
    rpcPort: 6000 + running.length,
    join: [],
    retryJoin: [],
    retryIntervalMs: 1_000,
    retryMax: 0,
    encrypt: "",
    profile: "fast",
    gossipConfig: makeConfig("fast"),
    failedServerGraceMs: 3_000,
    clock,
    reconcileIntervalMs: 500,
    incarnation: incarnation++,
    ...o,
  });
  running.push(m);
  return m;
}

/** A Raft side held in memory: the configuration, and a record of every call. */
class FakeRaft {
  servers: RaftServer[] = [];
  calls: string[] = [];
  leader = true;
  term = 1;
  /** The leader id this node knows ("" for none). */
  leaderId = "";
  bootstrapped: Voter[] | undefined;
  /** When set, addLearner waits for it (to change leadership meanwhile). */
  gate: Promise<void> | undefined;

  attachment(): RaftAttachment {
    return {
      ops: {
        configuration: () => ({ servers: this.servers.map((s) => ({ ...s })), commitIndex: 10 }),
        addLearner: async (id, address) => {
          this.calls.push(`addLearner ${id} ${address}`);
          if (this.gate) await this.gate;
          // Replication is the Raft shell's job; here the learner is caught up at once.
          this.servers.push({ id, address, voter: false, match: 10 });
        },
        promote: (id) => {
          this.calls.push(`promote ${id}`);
          this.#server(id).voter = true;
          return Promise.resolve();
        },
        remove: (id) => {
          this.calls.push(`remove ${id}`);
          this.servers = this.servers.filter((s) => s.id !== id);
          return Promise.resolve();
        },
        updateAddress: (id, address) => {
          this.calls.push(`updateAddress ${id} ${address}`);
          this.#server(id).address = address;
        },
      },
      leadership: () => ({ isLeader: this.leader, term: this.term, leader: this.leaderId }),
      hasState: () => this.servers.length > 0,
      bootstrap: (voters) => {
        this.bootstrapped = voters;
        this.servers = voters.map((v) => ({ id: v.id, address: v.address, voter: true, match: 0 }));
        return Promise.resolve();
      },
    };
  }

  #server(id: string): RaftServer {
    const s = this.servers.find((x) => x.id === id);
    if (!s) throw new Error(`no server ${id}`);
    return s;
  }
}

const alive = (m: Membership, name: string) =>
  m.members().some((x) => x.name === name && x.status === "alive");

describe("node id", () => {
  test("is created once, then read back; a corrupt file is a clear error", () => {
    const d = join(dir, "node1");
    const id = loadOrCreateNodeId(d);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(loadOrCreateNodeId(d)).toBe(id);
    expect(loadOrCreateNodeId(join(dir, "node2"))).not.toBe(id);
    writeFileSync(join(d, "node-id"), "not an id!\n");
    expect(() => loadOrCreateNodeId(d)).toThrow(/node id file .* is corrupt/);
  });
});

describe("peers.json", () => {
  test("absent is undefined; present is parsed with this node's name read as its id; removed after", () => {
    const path = join(dir, "peers.json");
    const self = { name: "s1", id: "uuid-1" };
    expect(readPeersJson(path, self)).toBeUndefined();
    writeFileSync(path, JSON.stringify([{ id: "s1", address: "10.0.0.1:6868" }]));
    expect(readPeersJson(path, self)).toEqual([
      { id: "uuid-1", address: "10.0.0.1:6868", nonVoter: false },
    ]);
    removePeersJson(path);
    expect(readPeersJson(path, self)).toBeUndefined();
  });

  test("a file that leaves this server out, or is malformed, is an error naming the file", () => {
    const path = join(dir, "peers-bad.json");
    writeFileSync(path, JSON.stringify([{ id: "s2", address: "10.0.0.2:6868" }]));
    expect(() => readPeersJson(path, { name: "s1", id: "uuid-1" })).toThrow(
      `${path} does not list this server (name s1, id uuid-1)`,
    );
    writeFileSync(path, "[{]");
    expect(() => readPeersJson(path, { name: "s1", id: "uuid-1" })).toThrow(
      `${path} is not valid JSON`,
    );
  });
});

describe("profiles", () => {
  test("every --profile gives a valid gossip config; wan is memberlist's WAN timing", () => {
    for (const p of ["lan", "local", "fast"] as const) expect(gossipConfigFor(p).profile).toBe(p);
    expect(gossipConfigFor("wan")).toMatchObject({
      probeIntervalMs: 5_000,
      probeTimeoutMs: 3_000,
      suspicionMult: 6,
      pushPullIntervalMs: 60_000,
    });
  });
});

describe("join", () => {
  test("resolveSeeds resolves hostnames now, adds the default port, reports failures", async () => {
    const r = await resolveSeeds(["a.test", "b.test:9000", "10.0.0.9", "bad.test"], (h) => {
      if (h === "bad.test") return Promise.reject(new Error("ENOTFOUND"));
      return Promise.resolve(
        h === "a.test" ? ["10.0.0.1", "fd00::1"] : h === "b.test" ? ["10.0.0.2"] : [h],
      );
    });
    expect(r.addrs).toEqual(["10.0.0.1:8946", "[fd00::1]:8946", "10.0.0.2:9000", "10.0.0.9:8946"]);
    expect(r.errors).toEqual(["bad.test: ENOTFOUND"]);
  });

  test("retry-join re-resolves the name on every attempt until a member answers", async () => {
    const clock = new FakeClock(0);
    const seed = await start("s1", clock);
    const lookups: string[] = [];
    const events: MembershipEvent[] = [];
    // The name first resolves to nothing (DNS not yet updated), then to the seed.
    const s2 = await start("s2", clock, {
      retryJoin: [`seed.test:${seed.gossipAddr.split(":")[1]}`],
      resolve: (h) => {
        lookups.push(h);
        return Promise.resolve(lookups.length < 3 ? [] : ["127.0.0.1"]);
      },
    });
    s2.onEvent((e) => events.push(e));
    await runUntil(
      clock,
      () => alive(s2, "s1") && events.some((e) => e.type === "joined"),
      () =>
        `join; lookups ${lookups.length}, members ${
          JSON.stringify(s2.members().map((m) => m.name))
        }`,
    );
    expect(lookups.length).toBeGreaterThanOrEqual(3);
    expect(lookups.every((h) => h === "seed.test")).toBe(true);
  }, 30_000);

  test("--join reports the first peer it meets", async () => {
    const clock = new FakeClock(0);
    const seed = await start("s1", clock);
    const events: MembershipEvent[] = [];
    const s2 = await start("s2", clock, { join: [seed.gossipAddr] });
    s2.onEvent((e) => events.push(e));
    await runUntil(
      clock,
      () => events.some((e) => e.type === "joined" && e.via === "join"),
      () => `joined; events ${JSON.stringify(events.map((e) => e.type))}`,
    );
    expect(s2.serfStats()).toMatchObject({
      members: "2",
      failed: "0",
      left: "0",
      encrypted: "false",
    });
    expect(s2.membersJson().map((m) => [m.Name, m.statusText, m.Tags.id])).toEqual([
      ["s1", "alive", "id-s1"],
      ["s2", "alive", "id-s2"],
    ]);
  }, 30_000);

  test("--encrypt: nodes with the same key join; a node with another key is refused", async () => {
    const clock = new FakeClock(0);
    const key = "kPpdjphiipNSsjd4QHWbkA==";
    const s1 = await start("s1", clock, { encrypt: key });
    await start("s2", clock, { encrypt: key, join: [s1.gossipAddr] });
    const s3 = await start("s3", clock, {
      encrypt: "AAAAAAAAAAAAAAAAAAAAAA==",
      join: [s1.gossipAddr],
    });
    await runUntil(
      clock,
      () => alive(s1, "s2") && s1.gossip.stats.rejected > 0,
      () => `s2 in, s3 refused; rejected ${s1.gossip.stats.rejected}`,
    );
    expect(alive(s1, "s3")).toBe(false);
    expect(s3.members().map((m) => m.name)).toEqual(["s3"]);
    expect(s1.serfStats().encrypted).toBe("true");
  }, 30_000);

  test("retry-join gives up after retry-max attempts with one clear event", async () => {
    const clock = new FakeClock(0);
    const events: MembershipEvent[] = [];
    let lookups = 0;
    const m = await start("lonely", clock, {
      retryJoin: ["nowhere.test"],
      retryMax: 3,
      resolve: () => {
        lookups++;
        return Promise.resolve([]);
      },
    });
    m.onEvent((e) => events.push(e));
    await runUntil(clock, () => events.some((e) => e.type === "joinFailed"), () => "joinFailed");
    expect(lookups).toBe(3);
    expect(events.find((e) => e.type === "joinFailed")).toEqual({
      type: "joinFailed",
      reason: "retry-join: no member answered after 3 attempt(s) through nowhere.test",
    });
  }, 30_000);
});

describe("bootstrap-expect", () => {
  test(
    "three servers with expect 3 each bootstrap the same voters, then advertise raft=1",
    async () => {
      const clock = new FakeClock(0);
      const rafts = [new FakeRaft(), new FakeRaft(), new FakeRaft()];
      const s1 = await start("s1", clock, { bootstrapExpect: 3 });
      s1.attachRaft(rafts[0]!.attachment());
      // Alone, s1 only waits.
      await runUntil(clock, () => s1.bootstrapStatus()?.kind === "wait", () => "wait");
      const s2 = await start("s2", clock, { bootstrapExpect: 3, join: [s1.gossipAddr] });
      s2.attachRaft(rafts[1]!.attachment());
      const s3 = await start("s3", clock, { bootstrapExpect: 3, join: [s1.gossipAddr] });
      s3.attachRaft(rafts[2]!.attachment());
      await runUntil(
        clock,
        () => rafts.every((r) => r.bootstrapped !== undefined),
        () => `bootstrap; statuses ${JSON.stringify([s1, s2, s3].map((m) => m.bootstrapStatus()))}`,
      );
      const expected = [s1, s2, s3].map((m) => ({
        id: m.nodeId,
        name: m.nodeName,
        address: m.rpcAddr,
      }));
      for (const r of rafts) expect(r.bootstrapped).toEqual(expected);
      // No leader yet: nobody tells late peers that a group exists (they may be initial voters).
      expect(s1.members().filter((m) => m.tags.hasRaft)).toEqual([]);
      for (const r of rafts) r.leaderId = "id-s1";
      await runUntil(
        clock,
        () => s1.members().filter((m) => m.tags.hasRaft).length === 3,
        () => "raft=1 tags",
      );
      // Now a late server with the same expect sees the group and waits to be added.
      const late = new FakeRaft();
      const s0 = await start("s0", clock, { bootstrapExpect: 3, join: [s1.gossipAddr] });
      s0.attachRaft(late.attachment());
      await runUntil(
        clock,
        () => s0.bootstrapStatus()?.kind === "exists",
        () => `exists; status ${JSON.stringify(s0.bootstrapStatus())}`,
      );
      expect(late.bootstrapped).toBeUndefined();
    },
    30_000,
  );

  test("a server with a different expect value is reported, and nobody bootstraps", async () => {
    const clock = new FakeClock(0);
    const r1 = new FakeRaft();
    const s1 = await start("s1", clock, { bootstrapExpect: 2 });
    s1.attachRaft(r1.attachment());
    const s2 = await start("s2", clock, { bootstrapExpect: 3, join: [s1.gossipAddr] });
    s2.attachRaft(new FakeRaft().attachment());
    await runUntil(clock, () => s1.bootstrapStatus()?.kind === "mismatch", () => "mismatch");
    expect(r1.bootstrapped).toBeUndefined();
  }, 30_000);
});

describe("reconcile loop", () => {
  test(
    "leader adds joiners as learners, promotes them, removes a failed one after the grace period and one that left; never itself",
    async () => {
      const clock = new FakeClock(0);
      const raft = new FakeRaft();
      const s1 = await start("s1", clock);
      raft.servers = [{ id: s1.nodeId, address: s1.rpcAddr, voter: true, match: 10 }];
      s1.attachRaft(raft.attachment());
      const s2 = await start("s2", clock, { join: [s1.gossipAddr] });
      const s3 = await start("s3", clock, { join: [s1.gossipAddr] });
      const voters = () => raft.servers.filter((s) => s.voter).map((s) => s.id).sort();
      await runUntil(
        clock,
        () => voters().length === 3,
        () => `3 voters; calls ${JSON.stringify(raft.calls)}`,
      );
      expect(raft.calls).toContain(`addLearner id-s2 ${s2.rpcAddr}`);
      expect(raft.calls).toContain(`addLearner id-s3 ${s3.rpcAddr}`);
      // Learner first, then promotion: never added straight as a voter.
      expect(raft.calls.indexOf("promote id-s2")).toBeGreaterThan(
        raft.calls.indexOf(`addLearner id-s2 ${s2.rpcAddr}`),
      );

      // s3 dies without a word: removed only once failed for the grace period.
      const killedAt = clock.monoMs();
      s3.stop();
      await runUntil(
        clock,
        () => raft.calls.includes("remove id-s3"),
        () => `remove s3; calls ${JSON.stringify(raft.calls)}`,
      );
      expect(clock.monoMs() - killedAt).toBeGreaterThanOrEqual(3_000);

      // s2 leaves gracefully: removed without waiting (1 alive of 1 remaining keeps a quorum).
      void s2.leave(200);
      await runUntil(
        clock,
        () => raft.calls.includes("remove id-s2"),
        () => `remove s2; calls ${JSON.stringify(raft.calls)}`,
      );
      expect(voters()).toEqual(["id-s1"]);
      expect(raft.calls.filter((c) => c.includes("id-s1"))).toEqual([]);
    },
    30_000,
  );

  test(
    "a server restarted on new ports with its node id gets its Raft address updated",
    async () => {
      const clock = new FakeClock(0);
      const raft = new FakeRaft();
      const s1 = await start("s1", clock);
      const s2 = await start("s2", clock, { join: [s1.gossipAddr], rpcPort: 7001 });
      raft.servers = [
        { id: s1.nodeId, address: s1.rpcAddr, voter: true, match: 10 },
        { id: s2.nodeId, address: s2.rpcAddr, voter: true, match: 10 },
      ];
      s1.attachRaft(raft.attachment());
      await runUntil(clock, () => alive(s1, "s2"), () => "s2 alive");
      s2.stop();
      // Same name and node id (same data dir), new gossip and RPC ports, higher incarnation.
      const again = await start("s2", clock, { join: [s1.gossipAddr], rpcPort: 7002 });
      await runUntil(
        clock,
        () => raft.calls.includes(`updateAddress id-s2 ${again.rpcAddr}`),
        () => `address update; calls ${JSON.stringify(raft.calls)}`,
      );
      expect(raft.servers.find((s) => s.id === "id-s2")?.address).toBe("127.0.0.1:7002");
      expect(raft.calls.some((c) => c.startsWith("remove"))).toBe(false);
    },
    30_000,
  );

  test("a change Raft never answers times out, and the next pass proposes it again", async () => {
    const clock = new FakeClock(0);
    const raft = new FakeRaft();
    raft.gate = new Promise<void>(() => {}); // never settles
    const s1 = await start("s1", clock, { actionTimeoutMs: 2_000 });
    raft.servers = [{ id: s1.nodeId, address: s1.rpcAddr, voter: true, match: 10 }];
    const events: MembershipEvent[] = [];
    s1.onEvent((e) => events.push(e));
    s1.attachRaft(raft.attachment());
    await start("s2", clock, { join: [s1.gossipAddr] });
    await runUntil(
      clock,
      () => raft.calls.filter((c) => c.startsWith("addLearner id-s2")).length >= 2,
      () => `a second attempt; calls ${JSON.stringify(raft.calls)}`,
    );
    expect(events.find((e) => e.type === "action")).toMatchObject({
      type: "action",
      action: { type: "addLearner", id: "id-s2" },
      error: "no answer from Raft within 2000 ms",
    });
  }, 30_000);

  test("a leader that loses leadership during a change takes no further action", async () => {
    const clock = new FakeClock(0);
    const raft = new FakeRaft();
    let open: () => void = () => {};
    raft.gate = new Promise<void>((r) => (open = r));
    const s1 = await start("s1", clock);
    raft.servers = [{ id: s1.nodeId, address: s1.rpcAddr, voter: true, match: 10 }];
    s1.attachRaft(raft.attachment());
    await start("s2", clock, { join: [s1.gossipAddr] });
    await runUntil(clock, () => raft.calls.length === 1, () => "addLearner call");
    // Deposed while the change is in flight; a new term begins elsewhere.
    raft.leader = false;
    raft.term = 2;
    open();
    // Several reconcile intervals pass: the learner is caught up, yet nobody promotes it.
    const until = clock.monoMs() + 3_000;
    await runUntil(clock, () => clock.monoMs() >= until && !s1.busy, () => "time to pass");
    expect(raft.calls).toEqual([expect.stringMatching(/^addLearner id-s2 /)]);
    expect(raft.servers.find((s) => s.id === "id-s2")?.voter).toBe(false);
  }, 30_000);
});
