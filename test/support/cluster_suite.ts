// The server cluster suite, run by test/cluster_process_test.ts (source) and
// test/binary_cluster_test.ts (compiled binary). It proves the server cluster with real processes on 127.0.0.1 (every port chosen at run time):
// 3 servers with --bootstrap-expect 3 form one group; a job created on a follower is readable
// there at once and then on all three; kill -9 of the leader elects a new one and the job keeps
// firing, each slot once; the killed server restarts on new ports and catches up (from the log,
// and from a snapshot after compaction); a 4th server joins and becomes a voter; `tock leave`
// removes it; SIGTERM on the leader hands leadership over first; and two servers lost for good
// are recovered on the survivor with peers.json.
// Polls with deadlines and prints what it saw; never sleeps for a condition.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ClusterOptions, ProcCluster, type Server } from "./cluster.ts";
import { bunBin, repoRoot, until } from "./proc.ts";

/** Defines the suite; `o.command` runs the compiled binary instead of the source. */
export function clusterSuite(label: string, o: ClusterOptions = {}): void {
  const root = mkdtempSync(join(tmpdir(), "tock-cluster-"));
  const fires = join(root, "fires.log");
  // Small snapshot threshold and tail so a restarted server needs a snapshot after ~100 writes.
  const c = new ProcCluster(root, {
    ...o,
    env: {
      ...o.env,
      TOCK_RAFT_SNAPSHOT_THRESHOLD: "40",
      TOCK_RAFT_TRAILING_ENTRIES: "10",
      TOCK_RAFT_SNAPSHOT_INTERVAL_MS: "0",
    },
  });
  afterAll(async () => {
    await c.stopAll();
    rmSync(root, { recursive: true, force: true });
  });

  async function api(s: Server, method: string, path: string, body?: unknown): Promise<Response> {
    return await fetch(s.url + path, {
      method,
      signal: AbortSignal.timeout(15_000),
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
  }

  async function jobsOn(s: Server): Promise<string[]> {
    const r = await api(s, "GET", "/v1/jobs");
    return ((await r.json()) as Array<{ name: string }>).map((j) => j.name).sort();
  }

  async function executions(
    s: Server,
    job: string,
  ): Promise<Array<{ id: string; status: string }>> {
    const r = await api(s, "GET", `/v1/jobs/${job}/executions`);
    return (await r.json()) as Array<{ id: string; status: string }>;
  }

  function cli(...args: string[]): { code: number | null; out: string } {
    const cmd = o.command ?? [bunBin, join(repoRoot, "src/main.ts")];
    const r = spawnSync(cmd[0] as string, [...cmd.slice(1), ...args], { encoding: "utf8" });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  }

  describe(`a 3-server cluster of processes (${label})`, () => {
    let follower: Server;

    test("forms with --bootstrap-expect 3 and elects one leader", async () => {
      const first = await c.start("s1", ["--bootstrap-expect", "3"]);
      // Alone, it waits for its peers: alive (liveness) but not ready.
      expect((await api(first, "GET", "/health")).status).toBe(200);
      const notReady = await api(first, "GET", "/health/ready");
      expect(notReady.status).toBe(503);
      expect((await notReady.json()).error).toContain("waiting to bootstrap");
      for (const n of ["s2", "s3"]) await c.start(n, ["--bootstrap-expect", "3"]);
      const leader = await c.waitLeader(30_000);
      const st = await c.status(leader);
      expect(st.voters.length).toBe(3);
      follower = c.alive().find((s) => s !== leader) as Server;
      expect((await api(follower, "GET", "/v1/isleader")).status).toBe(404);
      expect((await api(leader, "GET", "/v1/isleader")).status).toBe(200);
      const l = await (await api(follower, "GET", "/v1/leader")).json();
      expect(l.Name).toBe(leader.name);
      const members = await (await api(follower, "GET", "/v1/members")).json();
      expect(members.map((m: { Name: string }) => m.Name).sort()).toEqual(["s1", "s2", "s3"]);
      expect((await api(follower, "GET", "/health/ready")).status).toBe(200);
      const v1 = await (await api(follower, "GET", "/v1")).json();
      expect(v1.agent.name).toBe(follower.name);
      expect(v1.serf.members).toBe("3");
      expect(v1.raft).toMatchObject({ role: "follower", leader: st.id });
    }, 60_000);

    test("a job created on a follower is readable there at once, then on all three", async () => {
      const r = await api(follower, "POST", "/v1/jobs", {
        name: "tick",
        schedule: "@every 1s",
        executor: "shell",
        executor_config: { shell: "true", command: `echo fired >> ${fires}` },
      });
      expect(r.status).toBe(201);
      // Read-your-write on the server written to: no wait.
      expect((await api(follower, "GET", "/v1/jobs/tick")).status).toBe(200);
      await until("the job on all three servers", async () => {
        const all = await Promise.all(c.alive().map(jobsOn));
        return all.every((j) => j.includes("tick")) ? true : undefined;
      }, 15_000);
    }, 30_000);

    test(
      "kill -9 of the leader: a new leader, and the job keeps firing once per slot",
      async () => {
        const old = await c.waitLeader();
        const before = (await executions(follower, "tick")).length;
        await c.kill(old.name);
        const leader = await c.waitLeader(30_000);
        expect(leader.name).not.toBe(old.name);
        const ran = await until("new fires by the new leader", async () => {
          const ex = await executions(leader, "tick");
          return ex.length >= before + 3 ? ex : undefined;
        }, 30_000);
        const ids = ran.map((e) => e.id);
        expect(new Set(ids).size).toBe(ids.length);
        // Each slot's command ran at most once: never more lines than recorded runs.
        const lines = readFileSync(fires, "utf8").trim().split("\n").length;
        const runs = ran.filter((e) => e.status !== "missed").length;
        expect(lines).toBeLessThanOrEqual(runs + 1); // +1: one run may be recorded after we read
        // The killed server restarts (new ports: it rejoins by node id) and catches up from the log.
        const back = await c.start(old.name);
        expect(back.url).not.toBe(old.url); // new ports (all are chosen at run time)
        expect(back.id).toBe(old.id); // same identity: it rejoins, it is not a new server
        await until(`${old.name} to catch up`, async () => {
          const [a, b] = [await c.status(back), await c.status(leader)];
          return a.applied >= b.commit - 5 && a.leader === b.id ? true : undefined;
        }, 30_000);
        expect(await jobsOn(back)).toContain("tick");
        follower = back;
      },
      120_000,
    );

    test("a server that missed compacted entries catches up from a snapshot", async () => {
      const leader = await c.waitLeader();
      const lagging = c.alive().find((s) => s !== leader) as Server;
      await c.kill(lagging.name);
      for (let i = 0; i < 120; i++) {
        const r = await api(leader, "POST", "/v1/jobs", {
          name: `bulk${i}`,
          schedule: "@every 1h",
          executor: "shell",
          executor_config: { command: "true" },
        });
        expect(r.status).toBe(201);
      }
      expect((await c.status(leader)).snapshotsTaken).toBeGreaterThan(0);
      const back = await c.start(lagging.name);
      const st = await until(`${lagging.name} to install a snapshot`, async () => {
        const s = await c.status(back);
        return s.snapshotsInstalled > 0 ? s : undefined;
      }, 30_000);
      expect(st.snapshotsInstalled).toBeGreaterThan(0);
      await until(`${lagging.name} to hold all jobs`, async () => {
        const jobs = await jobsOn(back);
        return jobs.length === 121 ? true : undefined;
      }, 30_000);
    }, 120_000);

    test(
      "a 4th server joins as a voter; transfer-leader moves leadership; tock leave removes it",
      async () => {
        const s4 = await c.start("s4");
        await until("s4 to become a voter", async () => {
          const st = await c.status(await c.waitLeader());
          return st.voters.includes(s4.id) ? true : undefined;
        }, 45_000);
        // Operators move leadership by hand: to s4, by id, asking a follower (it asks the leader).
        const before = await c.waitLeader();
        const asked = c.alive().find((x) => x !== before && x !== s4) as Server;
        const moved = cli("raft", "transfer-leader", s4.id, "--address", asked.url);
        expect(moved.out).toContain(`Leadership transferred to ${s4.id}`);
        expect((await c.waitLeader()).name).toBe("s4");
        // The leader cannot remove itself (transfer first): a clear one-line error, exit 1.
        const self = cli("raft", "remove-peer", s4.id, "--address", s4.url);
        expect(self.code).toBe(1);
        expect(self.out).toContain("the leader cannot remove itself");
        // s4 leaves while leading: it hands leadership over, then is removed.
        const r = cli("leave", "--address", s4.url);
        expect(r.out).toContain("Left the cluster");
        expect(r.code).toBe(0);
        expect(await s4.proc.exited).toBe(0); // the agent stops once it has left
        await until("s4 to be removed from the voters", async () => {
          const st = await c.status(await c.waitLeader());
          return !st.voters.includes(s4.id) && st.voters.length === 3 ? true : undefined;
        }, 45_000);
        const peers = cli("raft", "list-peers", "--address", (await c.waitLeader()).url);
        expect(peers.code).toBe(0);
        expect(peers.out).not.toContain(s4.id);
        c.servers.delete("s4");
      },
      120_000,
    );

    test("SIGTERM on the leader hands leadership over before the process exits", async () => {
      const leader = await c.waitLeader();
      leader.proc.proc.kill("SIGTERM");
      expect(await leader.proc.exited).toBe(0);
      expect(leader.proc.output()).toContain("handed leadership to");
      const next = await c.waitLeader(20_000);
      expect(next.name).not.toBe(leader.name);
    }, 60_000);

    test(
      "two servers lost for good: peers.json on the survivor brings the cluster back",
      async () => {
        const [survivor, ...lost] = c.alive();
        for (const s of lost) await c.kill(s.name);
        await c.kill(survivor!.name);
        for (const s of lost) c.servers.delete(s.name);
        mkdirSync(join(survivor!.dir, "raft"), { recursive: true });
        writeFileSync(
          join(survivor!.dir, "raft", "peers.json"),
          JSON.stringify([{ id: survivor!.name, address: "127.0.0.1:1", non_voter: false }]),
        );
        const back = await c.start(survivor!.name);
        expect(back.proc.output()).toContain("recovered the Raft configuration");
        const leader = await c.waitLeader(30_000);
        expect(leader.name).toBe(survivor!.name);
        expect((await jobsOn(leader)).length).toBe(121);
        const r = await api(leader, "POST", "/v1/jobs", {
          name: "after-recovery",
          schedule: "@every 1h",
          executor: "shell",
          executor_config: { command: "true" },
        });
        expect(r.status).toBe(201);
      },
      90_000,
    );
  });
}
