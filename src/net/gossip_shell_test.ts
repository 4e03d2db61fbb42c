// Proves the UDP/TCP shell with real loopback sockets and a fake clock: a node joins through a
// seed (push-pull over TCP), ticks come only from the clock passed in, a graceful leave is
// reported as "leave", a node with another cluster label is refused and counted, and datagrams
// never exceed 1400 bytes.
import { afterEach, describe, expect, test } from "bun:test";
import type { GossipEvent } from "../gossip/mod.ts";
import { limits } from "../lib/mod.ts";
import { FakeClock } from "../lib/mod.ts";
import { type GossipShell, startGossipNode } from "./mod.ts";

/** Advances the fake clock 10 ms at a time, letting real socket IO run, until `cond` holds. */
async function runUntil(clock: FakeClock, cond: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    clock.advance(10);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const shells: GossipShell[] = [];
afterEach(() => {
  for (const s of shells.splice(0)) s.stop();
});

async function node(
  name: string,
  clock: FakeClock,
  extra: { join?: string[]; label?: string } = {},
) {
  const s = await startGossipNode({
    name,
    bindHost: "127.0.0.1",
    bindPort: 0,
    profile: "fast",
    clock,
    ...extra,
  });
  const events: GossipEvent[] = [];
  s.onEvent((e) => events.push(e));
  shells.push(s);
  return { s, events };
}

const saw = (events: GossipEvent[], kind: string, name: string) =>
  events.some((e) => e.type === "member" && e.kind === kind && e.member.name === name);

describe("gossip shell", () => {
  test("a node joins through a seed over real sockets, driven only by the fake clock", async () => {
    const clock = new FakeClock(0);
    const a = await node("a", clock);
    const b = await node("b", clock, { join: [a.s.core.addr] });
    await runUntil(clock, () => saw(a.events, "join", "b") && saw(b.events, "join", "a"), "join");
    expect(a.s.core.member("b")?.state).toBe("alive");
    expect(a.s.stats.streamsIn + b.s.stats.streamsIn).toBeGreaterThan(0);
    // Probes flow over UDP once the clock moves: a few probe intervals of fast (500 ms).
    const probes = a.s.core.stats.probes;
    await runUntil(clock, () => a.s.core.stats.probes >= probes + 3, "probes");
    expect(a.s.core.member("b")?.state).toBe("alive");
  }, 20_000);

  test("a graceful leave is reported as leave, not failed", async () => {
    const clock = new FakeClock(0);
    const a = await node("a", clock);
    const b = await node("b", clock, { join: [a.s.core.addr] });
    await runUntil(clock, () => saw(a.events, "join", "b"), "join");
    let left = false;
    void b.s.leave(200).then(() => (left = true));
    await runUntil(clock, () => left && saw(a.events, "leave", "b"), "leave");
    expect(saw(a.events, "failed", "b")).toBe(false);
  }, 20_000);

  test("a node with another cluster label is refused and the refusals are counted", async () => {
    const clock = new FakeClock(0);
    const a = await node("a", clock, { label: "prod" });
    const c = await node("c", clock, { label: "staging", join: [a.s.core.addr] });
    await runUntil(clock, () => a.s.stats.rejected >= 3, "rejections");
    expect(saw(a.events, "join", "c")).toBe(false);
    expect(c.s.core.members().length).toBe(1);
  }, 20_000);

  test("datagrams stay within 1400 bytes with many large tags in flight", async () => {
    const clock = new FakeClock(0);
    const a = await node("a", clock);
    const others: Array<{ s: GossipShell; events: GossipEvent[] }> = [];
    for (let i = 0; i < 6; i++) others.push(await node(`n${i}`, clock, { join: [a.s.core.addr] }));
    await runUntil(clock, () => others.every((o) => saw(a.events, "join", o.s.core.name)), "joins");
    for (const o of others) o.s.core.setTags({ big: "x".repeat(450) });
    await runUntil(
      clock,
      () => others.every((o) => a.s.core.member(o.s.core.name)?.tags["big"] !== undefined),
      "tags",
    );
    const largest = Math.max(...[a, ...others].map((n) => n.s.stats.datagramBytesMax));
    // Two 450-byte tag updates fit in one packet, three do not: packets fill up to the limit.
    expect(largest).toBeGreaterThan(900);
    expect(largest).toBeLessThanOrEqual(limits.gossipPacketBytesMax);
    expect([a, ...others].map((n) => n.s.stats.sendErrors)).toEqual(new Array(7).fill(0));
  }, 30_000);
});
