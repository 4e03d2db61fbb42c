// Proves key rotation across 5 gossip node processes (one on Deno) on real clocks (127.0.0.1, ephemeral
// ports, the "local" profile, AES-GCM and a cluster label), with tag updates and user events
// flowing: install → use → remove, each acknowledged by 5 of 5, no member ever declared failed;
// each process saved its keyring file, and one restarted from that file alone rejoins; a new
// process with only the new key joins; one with only the removed key is refused.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKey } from "../src/net/mod.ts";
import {
  aliveView,
  type NodeLine,
  NodeProc,
  type Runtime,
  until,
} from "../bench/gossip_cluster.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-keyring-proc-"));
const k1 = generateKey(32);
const k2 = generateKey(32);
const base = ["--profile", "local", "--label", "tock-test"];
const procs: NodeProc[] = [];
let traffic: ReturnType<typeof setInterval> | undefined;

afterAll(() => {
  if (traffic !== undefined) clearInterval(traffic);
  for (const p of procs) p.stop();
  rmSync(dir, { recursive: true, force: true });
});

function start(name: string, key: string, join?: string, runtime: Runtime = "bun"): NodeProc {
  const p = new NodeProc(name, [
    ...base,
    "--key",
    key,
    "--keyring-file",
    `${dir}/${name}.json`,
    ...(join === undefined ? [] : ["--join", join]),
  ], runtime);
  procs.push(p);
  return p;
}

/** Sends `keyring OP KEY` to `p` and waits for its aggregate answer line. */
async function keyring(p: NodeProc, op: string, key = ""): Promise<NodeLine> {
  const before = p.lines.length;
  p.send(`keyring ${op} ${key}`.trim());
  let answer: NodeLine | undefined;
  await until(
    () => (answer = p.lines.slice(before).find((l) => l.type === "keyring")) !== undefined,
    30_000,
    () => `no answer to keyring ${op} from ${p.name}: ${p.stderr}`,
  );
  return answer as NodeLine;
}

const failedLines = () =>
  procs.flatMap((p) =>
    p.lines.filter((l) => l.type === "failed").map((l) => `${p.name}:${l.name}`)
  );

describe("gossip key rotation across 5 processes", () => {
  test(
    "install → use → remove, 5/5 each, under traffic, no member failed; file restart, new-key join, old-key refusal",
    async () => {
      const seed = start("n0", k1);
      await until(() => seed.addr !== "", 15_000, () => `n0 not ready: ${seed.stderr}`);
      // n1 runs on Deno: the keyring operations use only node: modules and protobuf-es.
      for (let i = 1; i < 5; i++) start(`n${i}`, k1, seed.addr, i === 1 ? "deno" : "bun");
      const five = procs.slice(0, 5);
      await until(
        () => five.every((p) => aliveView(p).size === 5),
        30_000,
        () => five.map((p) => `${p.name}:${[...aliveView(p)].join(",")}`).join(" "),
      );
      let gen = 0;
      traffic = setInterval(() => {
        const p = five[gen % 5] as NodeProc;
        p.send(`tags gen=${gen}`);
        p.send(`event tick ${gen}`);
        gen++;
      }, 50);

      const origin = five[2] as NodeProc;
      for (const [op, key] of [["install", k2], ["use", k2], ["remove", k1]] as const) {
        const r = await keyring(origin, op, key);
        expect({
          op,
          members: r["members"],
          acks: r["acks"],
          errors: r["errors"],
          error: r["error"],
        })
          .toEqual({ op, members: 5, acks: 5, errors: {}, error: undefined });
      }
      const listed = await keyring(five[0] as NodeProc, "list");
      expect(listed["keys"]).toEqual({ [k2]: 5 });
      for (let i = 0; i < 5; i++) {
        expect(JSON.parse(readFileSync(`${dir}/n${i}.json`, "utf8"))).toEqual([k2]);
      }
      expect(failedLines()).toEqual([]);

      // n4 restarts from its keyring file alone (its --key is the removed K1) and rejoins.
      const n4 = five[4] as NodeProc;
      n4.stop();
      const again = start("n4", k1, seed.addr);
      await until(
        () => aliveView(again).size === 5,
        30_000,
        () => `restarted n4 sees ${[...aliveView(again)].join(",")}: ${again.stderr}`,
      );

      const late = new NodeProc("late", [...base, "--key", k2, "--join", seed.addr]);
      procs.push(late);
      await until(
        () => aliveView(late).size === 6 && seed.find("join", "late") !== undefined,
        30_000,
        () => `late sees ${[...aliveView(late)].join(",")}`,
      );

      const old = new NodeProc("old", [...base, "--key", k1, "--join", seed.addr]);
      procs.push(old);
      const rejected = () => {
        const s = seed.lines.filter((l) => l.type === "stats").at(-1) as
          | { shell: { rejected: number } }
          | undefined;
        return s?.shell.rejected ?? 0;
      };
      await until(
        () => {
          seed.send("stats");
          return rejected() >= 3;
        },
        30_000,
        () => `seed rejected ${rejected()} frames`,
      );
      expect(seed.find("join", "old")).toBeUndefined();
      expect(old.proc.exitCode).toBeNull(); // refused, not crashed
      // Only the node killed on purpose was ever reported failed.
      expect(failedLines().filter((l) => !l.endsWith(":n4"))).toEqual([]);
    },
    180_000,
  );
});
