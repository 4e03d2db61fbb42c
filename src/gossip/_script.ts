/**
 * Interaction-script interpreter (etcd-io/raft datadriven style). A script is blocks of
 * `command args` / `----` / expected output, separated by blank lines. runScript() executes the
 * commands against in-memory cores wired by a perfect network (plus cuts and crashes) and
 * returns the script text with each block's output filled in, so a test compares it to the
 * file and `UPDATE=1` rewrites it. Pure: no IO here; the test reads and writes files.
 *
 * Commands:
 *   add NAME [profile=lan|local|fast] [seed=N] [inc=N] [tags=k=v;k=v] [lifeguard=off] [reap=MS]
 *       [bug=ignoreRefute]
 *   join NAME SEED...            tick NAME [N]            deliver [verbose]
 *   run MS [verbose]             lockstep ticks of every live node, delivering after each tick
 *   cut A B | cut A->B | heal    crash NAME               restart NAME [inc=N] [seed=N]
 *   inject TO alive|suspect|dead node=X inc=N [from=Y]    settags NAME k=v;k=v
 *   event NAME EVNAME PAYLOAD    leave NAME               members NAME        health NAME
 *   query NAME QNAME PAYLOAD [timeout=MS]   start a query (every node answers "<node>:ok" at
 *       once unless muted)      mute NAME   respond NAME FROM ID PAYLOAD   closequery NAME ID
 *   drop A->B TYPE               lose the next message of TYPE from A to B (once)
 */
import { Prng } from "../lib/mod.ts";
import { makeConfig, type ProfileName } from "./config.ts";
import { GossipCore } from "./core.ts";
import type { GossipEvent, Msg, OutPacket, OutStream, QueryEvent } from "./types.ts";

const utf8 = new TextEncoder();
const text = new TextDecoder();

function parseTags(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (s === undefined || s === "") return out;
  for (const kv of s.split(";")) {
    const i = kv.indexOf("=");
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

function fmtTags(t: Record<string, string>): string {
  const keys = Object.keys(t).sort();
  return keys.length === 0 ? "" : ` tags=${keys.map((k) => `${k}=${t[k]}`).join(";")}`;
}

/** One-line rendering of a message. */
export function fmtMsg(m: Msg): string {
  switch (m.type) {
    case "ping":
      return `ping#${m.seqNo}(${m.node})`;
    case "indirectPing":
      return `iping#${m.seqNo}(${m.node}${m.nack ? " nack" : ""})`;
    case "ack":
      return `ack#${m.seqNo}`;
    case "nack":
      return `nack#${m.seqNo}`;
    case "alive":
      return `alive(${m.node} inc=${m.incarnation} meta=${m.meta.length}B)`;
    case "suspect":
      return `suspect(${m.node} inc=${m.incarnation} from=${m.from})`;
    case "dead":
      return `${
        m.from === m.node ? "left" : "dead"
      }(${m.node} inc=${m.incarnation} from=${m.from})`;
    case "userEvent":
      return `event(${m.name} ltime=${m.ltime} "${text.decode(m.payload)}")`;
    case "pushPull":
      return `pushpull(${m.join ? "join " : ""}${
        m.reply ? "reply " : ""
      }from=${m.sourceNode} states=${
        m.states.map((s) => `${s.node}:${s.state}:${s.incarnation}`).join(",")
      } ltime=${m.eventLtime})`;
    case "query":
      return `query#${m.id}(${m.name} from=${m.sourceNode} "${
        text.decode(m.payload)
      }" timeout=${m.timeoutMs})`;
    case "queryResponse":
      return `qresp#${m.id}(from=${m.from} "${text.decode(m.payload)}")`;
  }
}

function fmtQuery(e: QueryEvent): string {
  switch (e.type) {
    case "query":
      return `query #${e.id} from=${e.from} ${e.name} "${
        text.decode(e.payload)
      }" deadline=${e.deadlineMs}`;
    case "queryResponse":
      return `response #${e.id} from=${e.from} "${text.decode(e.payload)}"`;
    case "queryDone":
      return `done #${e.id} ${e.name} responses=${e.responses}`;
  }
}

function fmtEvent(e: GossipEvent): string {
  if (e.type === "user") return `user ${e.name} ltime=${e.ltime} "${text.decode(e.payload)}"`;
  return `${e.kind} ${e.member.name} inc=${e.member.incarnation}${fmtTags(e.member.tags)}`;
}

interface Block {
  cmd: string;
  expected: string;
}

function parseBlocks(script: string): Block[] {
  const blocks: Block[] = [];
  const lines = script.split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    if (line.trim() === "" || line.startsWith("#")) {
      i++;
      continue;
    }
    const cmd = line;
    i++;
    if ((lines[i] ?? "") !== "----") throw new Error(`line ${i + 1}: expected ---- after "${cmd}"`);
    i++;
    const out: string[] = [];
    while (i < lines.length && (lines[i] ?? "") !== "") out.push(lines[i++] ?? "");
    blocks.push({ cmd, expected: out.join("\n") });
  }
  return blocks;
}

class World {
  cores = new Map<string, GossipCore>();
  down = new Set<string>();
  cut = new Set<string>();
  /** "A->B type" entries: the next such message is lost (once). */
  drops = new Set<string>();
  muted = new Set<string>();
  /** Id of the last query started, for `respond`/`closequery ... last`. */
  lastQuery = 0;
  log: string[] = [];

  core(name: string): GossipCore {
    const c = this.cores.get(name);
    if (c === undefined) throw new Error(`no node ${name}`);
    return c;
  }

  add(name: string, kv: Record<string, string>): void {
    const profile = (kv["profile"] ?? "lan") as ProfileName;
    const config = makeConfig(profile, {
      ...(kv["lifeguard"] === "off" ? { lifeguard: false } : {}),
      ...(kv["reap"] === undefined
        ? {}
        : { reapFailedMs: Number(kv["reap"]), reapLeftMs: Number(kv["reap"]) }),
    });
    const opts = {
      name,
      addr: name,
      config,
      prng: new Prng(Number(kv["seed"] ?? name.charCodeAt(0))),
      tags: parseTags(kv["tags"]),
      incarnation: Number(kv["inc"] ?? 1),
    };
    this.cores.set(
      name,
      new GossipCore(kv["bug"] === "ignoreRefute" ? { ...opts, bug: "ignoreRefute" } : opts),
    );
    this.down.delete(name);
  }

  /** Delivers every pending output once; returns how many messages moved. */
  deliverRound(verbose: boolean, prefix: string): number {
    const batch: Array<[string, OutPacket | OutStream, boolean]> = [];
    for (const [name, c] of this.cores) {
      if (this.down.has(name)) continue;
      const out = c.takeOutput();
      for (const e of out.events) this.log.push(`${prefix}${name}: ${fmtEvent(e)}`);
      for (const q of out.queries) {
        this.log.push(`${prefix}${name}: ${fmtQuery(q)}`);
        if (q.type === "query" && !this.muted.has(name)) {
          c.respond(q.from, q.id, utf8.encode(`${name}:ok`));
        }
      }
      for (const p of out.packets) batch.push([name, p, false]);
      for (const s of out.streams) batch.push([name, s, true]);
    }
    for (const [from, p, isStream] of batch) {
      const all = isStream ? [(p as OutStream).msg] : (p as OutPacket).msgs;
      const msgs = all.filter((m) => !this.drops.delete(`${from}->${p.to} ${m.type}`));
      if (msgs.length < all.length) {
        this.log.push(`${prefix}${from}->${p.to}: dropped ${all.length - msgs.length} message(s)`);
      }
      if (msgs.length === 0) continue;
      const lost = this.down.has(p.to) || this.cut.has(`${from}->${p.to}`) ||
        !this.cores.has(p.to);
      if (verbose) {
        this.log.push(
          `${prefix}${from}->${p.to}${isStream ? " (tcp)" : ""}: ${msgs.map(fmtMsg).join(" + ")}${
            lost ? "  [lost]" : ""
          }`,
        );
      }
      if (!lost) this.core(p.to).step(from, msgs);
    }
    return batch.length;
  }

  settle(verbose: boolean, prefix: string): void {
    for (let round = 0; round < 50; round++) {
      if (this.deliverRound(verbose, prefix) === 0) return;
    }
    this.log.push("(did not settle in 50 rounds)");
  }
}

function kvArgs(args: string[]): [string[], Record<string, string>] {
  const pos: string[] = [];
  const kv: Record<string, string> = {};
  for (const a of args) {
    const i = a.indexOf("=");
    if (i > 0) kv[a.slice(0, i)] = a.slice(i + 1);
    else pos.push(a);
  }
  return [pos, kv];
}

function queryId(w: World, s: string | undefined): number {
  return s === "last" ? w.lastQuery : Number(s);
}

function exec(w: World, cmd: string): string {
  const [op, ...rest] = cmd.trim().split(/\s+/);
  const [pos, kv] = kvArgs(rest);
  const verbose = pos.includes("verbose");
  w.log = [];
  switch (op) {
    case "add":
      w.add(pos[0] ?? "", kv);
      return "ok";
    case "join":
      w.core(pos[0] ?? "").join(pos.slice(1));
      return "ok";
    case "tick": {
      const c = w.core(pos[0] ?? "");
      const n = Number(pos[1] ?? 1);
      for (let i = 0; i < n; i++) c.tick();
      return `t=${c.nowMs}`;
    }
    case "deliver":
      w.settle(true, "");
      return w.log.join("\n") || "(nothing)";
    case "run": {
      const ms = Number(pos[0]);
      const live = [...w.cores.entries()].filter(([n]) => !w.down.has(n));
      const tickMs = live[0]?.[1].config.tickMs ?? 10;
      for (let t = 0; t < ms; t += tickMs) {
        for (const [, c] of live) c.tick();
        const now = live[0]?.[1].nowMs ?? 0;
        w.settle(verbose, `t=${now} `);
      }
      return w.log.join("\n") || "(nothing)";
    }
    case "cut": {
      const a = pos[0] ?? "";
      if (a.includes("->")) {
        w.cut.add(a);
      } else {
        w.cut.add(`${a}->${pos[1]}`);
        w.cut.add(`${pos[1]}->${a}`);
      }
      return "ok";
    }
    case "heal":
      w.cut.clear();
      w.drops.clear();
      return "ok";
    case "drop":
      w.drops.add(`${pos[0]} ${pos[1]}`);
      return "ok";
    case "mute":
      w.muted.add(pos[0] ?? "");
      return "ok";
    case "query": {
      const c = w.core(pos[0] ?? "");
      w.lastQuery = c.query(pos[1] ?? "", utf8.encode(pos[2] ?? ""), Number(kv["timeout"] ?? 1000));
      return `id=${w.lastQuery}`;
    }
    case "respond":
      w.core(pos[0] ?? "").respond(pos[1] ?? "", queryId(w, pos[2]), utf8.encode(pos[3] ?? ""));
      w.settle(true, "");
      return w.log.join("\n") || "ok";
    case "closequery":
      return String(w.core(pos[0] ?? "").closeQuery(queryId(w, pos[1])));
    case "crash":
      w.down.add(pos[0] ?? "");
      w.core(pos[0] ?? "").takeOutput();
      return "ok";
    case "restart": {
      const name = pos[0] ?? "";
      const old = w.core(name);
      w.add(name, { profile: old.config.profile, ...kv });
      return `${name} inc=${w.core(name).incarnation}`;
    }
    case "inject": {
      const to = w.core(pos[0] ?? "");
      const type = pos[1];
      const node = kv["node"] ?? "";
      const inc = Number(kv["inc"] ?? 0);
      const from = kv.from ?? "x";
      let m: Msg;
      if (type === "alive") {
        m = { type: "alive", node, incarnation: inc, addr: node, meta: new Uint8Array() };
      } else if (type === "suspect" || type === "dead") {
        m = { type, node, incarnation: inc, from };
      } else throw new Error(`inject: unknown type ${type}`);
      to.step(from, [m]);
      w.settle(verbose, "");
      const mm = to.member(node);
      const line = mm === undefined
        ? `${node} unknown`
        : `${node} ${mm.state} inc=${mm.incarnation}`;
      return [...w.log, line].join("\n");
    }
    case "settags":
      w.core(pos[0] ?? "").setTags(parseTags(rest[1]));
      return "ok";
    case "event":
      w.core(pos[0] ?? "").userEvent(pos[1] ?? "", utf8.encode(pos[2] ?? ""));
      return "ok";
    case "leave":
      w.core(pos[0] ?? "").leave();
      return "ok";
    case "members":
      return w.core(pos[0] ?? "").members().map((m) =>
        `${m.name} ${m.state} inc=${m.incarnation}${fmtTags(m.tags)}`
      ).join("\n");
    case "health": {
      const c = w.core(pos[0] ?? "");
      const s = c.stats;
      return `score=${c.healthScore} inc=${c.incarnation} probes=${s.probes} failures=${s.probeFailures} suspects=${s.suspects} refutes=${s.refutes}`;
    }
    default:
      throw new Error(`unknown command "${op}"`);
  }
}

/** Runs a script; returns it with every block's output replaced by the actual output. */
export function runScript(script: string): string {
  const w = new World();
  const parts: string[] = [];
  const header = script.split("\n").filter((l, i, all) =>
    l.startsWith("#") && all.slice(0, i).every((p) => p.startsWith("#"))
  );
  if (header.length > 0) parts.push(header.join("\n"));
  for (const b of parseBlocks(script)) {
    let out: string;
    try {
      out = exec(w, b.cmd);
    } catch (e) {
      out = `error: ${e instanceof Error ? e.message : String(e)}`;
    }
    parts.push(`${b.cmd}\n----\n${out}`);
  }
  return parts.join("\n\n") + "\n";
}
