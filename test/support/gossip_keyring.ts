/** Helpers for keyring tests: real gossip shells on 127.0.0.1 driven by a fake clock. */
import type { GossipEvent } from "../../src/gossip/mod.ts";
import { FakeClock as LibFakeClock } from "../../src/lib/mod.ts";
import {
  attachKeyringOps,
  type GossipShell,
  Keyring,
  type KeyringOps,
  parseKey,
  startGossipNode,
} from "../../src/net/mod.ts";

/** The one clock port's fake, from 0, with `t` for the tests' reads of time. */
export class FakeClock extends LibFakeClock {
  constructor() {
    super(0);
  }
  get t(): number {
    return this.nowMs();
  }
}

export interface TestNode {
  s: GossipShell;
  events: GossipEvent[];
  ops: KeyringOps;
  persisted: string[][];
}

export const label = "tock-test";
export const started: GossipShell[] = [];
/** Stops every shell started by startNode (call from afterEach). */
export function stopAll(): void {
  for (const s of started.splice(0)) s.stop();
}

export async function startNode(
  name: string,
  clock: FakeClock,
  keys: string[],
  join?: string,
): Promise<TestNode> {
  const s = await startGossipNode({
    name,
    bindHost: "127.0.0.1",
    bindPort: 0,
    profile: "fast",
    clock,
    label,
    keyring: new Keyring(keys.map(parseKey)),
    ...(join === undefined ? {} : { join: [join] }),
  });
  started.push(s);
  const events: GossipEvent[] = [];
  s.onEvent((e) => events.push(e));
  const persisted: string[][] = [];
  const ops = attachKeyringOps(s, { persist: (k) => persisted.push(k) });
  return { s, events, ops, persisted };
}

/** Background traffic: every 100 ms of fake time a user event, every 500 ms a tag update. */
export function traffic(nodes: TestNode[], clock: FakeClock): void {
  const step = clock.t / 10;
  const n = nodes[step % nodes.length] as TestNode;
  if (step % 10 === 0) n.s.core.userEvent("tick", new TextEncoder().encode(String(step)));
  if (step % 50 === 0) n.s.core.setTags({ role: "worker", gen: String(step) });
}

/**
 * Advances the fake clock 10 ms at a time (running `each` after every step) and yields to real
 * socket IO between steps until `cond` holds; fails after a real-time deadline with `seen()`.
 */
export async function runUntil(
  clock: FakeClock,
  cond: () => boolean,
  seen: () => string,
  each: () => void = () => {},
  deadlineMs = 40_000,
): Promise<void> {
  const end = performance.now() + deadlineMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out; last seen: ${seen()}`);
    clock.advance(10);
    each();
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Drives the clock (with traffic) until `p` settles; returns its value or rethrows. */
export async function drive<T>(
  clock: FakeClock,
  nodes: TestNode[],
  p: Promise<T>,
  what: string,
): Promise<T> {
  let settled: { ok: true; v: T } | { ok: false; e: unknown } | undefined;
  p.then((v) => (settled = { ok: true, v }), (e) => (settled = { ok: false, e }));
  await runUntil(clock, () => settled !== undefined, () => what, () => traffic(nodes, clock));
  const s = settled as unknown as { ok: true; v: T } | { ok: false; e: unknown };
  if (!s.ok) throw s.e;
  return s.v;
}
