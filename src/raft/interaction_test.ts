// Proves the Raft core's behaviour in the classic etcd-io/raft scenarios: each script in
// testdata/*.txt drives a TestCluster command by command and its output must equal the golden
// text under the command. `UPDATE=1 bun test src/raft/interaction_test.ts` rewrites the goldens.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  describeEntry,
  describeReady,
  harnessSnapshotData,
  type NodeOptions,
  TestCluster,
} from "./_harness.ts";
import type { ConfChange } from "./types.ts";

const dir = join(import.meta.dir, "testdata");
const encoder = new TextEncoder();

interface Block {
  command: string;
  expected: string;
}

function parse(text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === "" || line.startsWith("#")) {
      i++;
      continue;
    }
    const command = line.trim();
    i++;
    if (lines[i] !== "----") throw new Error(`line ${i + 1}: expected ---- after "${command}"`);
    i++;
    const out: string[] = [];
    while (i < lines.length && (lines[i] as string) !== "") out.push(lines[i++] as string);
    blocks.push({ command, expected: out.join("\n") });
  }
  return blocks;
}

function format(
  blocks: Array<Block & { actual: string }>,
  comments: Map<number, string[]>,
): string {
  const parts: string[] = [];
  blocks.forEach((b, i) => {
    const c = comments.get(i);
    parts.push(`${c ? c.join("\n") + "\n" : ""}${b.command}\n----\n${b.actual}\n`);
  });
  return parts.join("\n");
}

function options(args: string[]): NodeOptions {
  const o: NodeOptions = {};
  for (const a of args) {
    const [k, v] = a.split("=");
    if (v === undefined) continue;
    switch (k) {
      case "prevote":
        o.preVote = v === "true";
        break;
      case "checkquorum":
        o.checkQuorum = v === "true";
        break;
      case "election":
        o.electionTicks = Number(v);
        break;
      case "heartbeat":
        o.heartbeatTicks = Number(v);
        break;
      case "inflight":
        o.maxInflightMsgs = Number(v);
        break;
      case "max-entries":
        o.maxEntriesPerMsg = Number(v);
        break;
      case "trailing":
        o.trailingEntries = Number(v);
        break;
      default:
        throw new Error(`unknown option ${k}`);
    }
  }
  return o;
}

/** Runs one command against the cluster and returns its printed output. */
function run(c: TestCluster, command: string): string {
  const [cmd, ...args] = command.split(/\s+/) as [string, ...string[]];
  const out: string[] = [];
  const id = args[0] ?? "";
  switch (cmd) {
    case "add-nodes": {
      const n = Number(args[0]);
      const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
      c.addVoters(ids, options(args.slice(1)));
      out.push(`voters ${ids.join(" ")}`);
      break;
    }
    case "add-empty-node":
      c.addNode(id, undefined, options(args.slice(1)));
      out.push(`${id} started with an empty log`);
      break;
    case "forget-leader":
      for (const a of args) c.node(a).forgetLeader();
      break;
    case "campaign":
      c.node(id).campaign();
      break;
    case "propose": {
      const r = c.node(id).propose(encoder.encode(args[1] ?? ""));
      out.push(r.ok ? `proposed at ${r.term}/${r.index}` : `refused: ${r.reason}: ${r.message}`);
      break;
    }
    case "propose-conf-change": {
      const cc = { type: args[1], node: args[2] } as ConfChange;
      const r = c.node(id).proposeConfChange(cc);
      out.push(r.ok ? `proposed at ${r.term}/${r.index}` : `refused: ${r.reason}: ${r.message}`);
      break;
    }
    case "tick":
      c.tick(id, Number(args[1] ?? "1"));
      break;
    case "tick-election":
      // Twice the base timeout always exceeds the randomized one.
      c.tick(id, 2 * (c.options.get(id)?.electionTicks ?? 10));
      break;
    case "process-ready": {
      const rd = c.processReady(id);
      if (rd !== undefined) out.push(...describeReady(id, rd));
      break;
    }
    case "deliver-msgs": {
      const drop = args.includes("drop");
      const box = c.mailbox.get(id)?.length ?? 0;
      const got = c.deliver(id, drop);
      out.push(`${id}: ${drop ? "dropped" : "delivered"} ${drop ? box : got.length} message(s)`);
      break;
    }
    case "stabilize":
      out.push(...c.stabilize());
      break;
    case "isolate":
      c.isolate(id);
      break;
    case "partition": {
      const groups = args.join(" ").split("|").map((g) => g.trim().split(/\s+/));
      c.partition(groups);
      break;
    }
    case "heal":
      c.heal();
      break;
    case "crash":
      c.crash(id);
      break;
    case "restart":
      c.restart(id);
      break;
    case "compact": {
      const n = c.node(id);
      const idx = Number(args[1]);
      n.compact(idx, harnessSnapshotData((c.applied.get(id) ?? []).slice(0, idx)));
      break;
    }
    case "transfer-leadership":
      out.push(c.node(id).transferLeadership(args[1] ?? "") ? "transfer started" : "refused");
      break;
    case "read-index":
      out.push(c.node(id).readIndex(args[1] ?? "") ? "requested" : "refused: no leader");
      break;
    case "raft-state":
      for (const nid of [...c.durable.keys()].sort()) {
        const n = c.nodes.get(nid);
        if (n === undefined) {
          out.push(`${nid}: down`);
          continue;
        }
        const s = n.status();
        out.push(
          `${nid}: ${s.role} term=${s.term} leader=${s.leader || "-"} commit=${s.commit} ` +
            `applied=${s.applied} last=${s.lastIndex} voters=(${s.config.voters.join(" ")})` +
            (s.config.learners.length > 0 ? ` learners=(${s.config.learners.join(" ")})` : ""),
        );
      }
      break;
    case "raft-log": {
      const n = c.node(id);
      const s = n.status();
      out.push(`first=${s.firstIndex} last=${s.lastIndex}`);
      for (const e of n.entries(s.firstIndex, s.lastIndex + 1)) out.push(describeEntry(e));
      break;
    }
    case "applied":
      out.push(`${id}: ${c.appliedData(id).join(" ")}`);
      break;
    case "progress": {
      const p = c.node(id).status().progress;
      for (const k of Object.keys(p).sort()) {
        const v = p[k] as { match: number; next: number; state: string };
        out.push(`${k}: ${v.state} match=${v.match} next=${v.next}`);
      }
      break;
    }
    default:
      throw new Error(`unknown command ${cmd}`);
  }
  return out.length === 0 ? "ok" : out.join("\n");
}

const files = readdirSync(dir).filter((f) => f.endsWith(".txt")).sort();

describe("interaction scripts", () => {
  for (const file of files) {
    test(`${file} produces its golden output`, () => {
      const text = readFileSync(join(dir, file), "utf8");
      const blocks = parse(text);
      // Keep comment lines attached to the block that follows them when rewriting.
      const comments = new Map<number, string[]>();
      let pending: string[] = [];
      let b = 0;
      for (const line of text.split("\n")) {
        if (line.startsWith("#")) pending.push(line);
        else if (line === "----" && pending.length >= 0) {
          if (pending.length > 0) comments.set(b, pending);
          pending = [];
          b++;
        }
      }
      const c = new TestCluster();
      const results = blocks.map((blk) => ({ ...blk, actual: run(c, blk.command) }));
      if (process.env.UPDATE === "1") {
        writeFileSync(join(dir, file), format(results, comments));
        return;
      }
      for (const r of results) {
        expect(`${r.command}\n${r.actual}`).toBe(`${r.command}\n${r.expected}`);
      }
    });
  }
});
