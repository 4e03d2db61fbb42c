// Proves that replayed packets are harmless: after a 3-node cluster has run (joins, a tag
// change, user events), re-delivering every datagram node "a" ever received changes none of
// a's state and raises no event; the replays are counted as stale.
import { expect, test } from "bun:test";
import { Prng } from "../lib/mod.ts";
import { encodePacket, GossipCore, makeConfig } from "./mod.ts";

test("replaying every datagram a node received leaves its state unchanged and emits no event", () => {
  const cores = new Map<string, GossipCore>();
  for (const name of ["a", "b", "c"]) {
    cores.set(
      name,
      new GossipCore({
        name,
        addr: name,
        config: makeConfig("lan"),
        prng: new Prng(name.charCodeAt(0)),
      }),
    );
  }
  const get = (n: string) => cores.get(n) as GossipCore;
  get("b").join(["a"]);
  get("c").join(["a"]);
  const received: Array<[string, Uint8Array]> = [];
  const run = (ms: number) => {
    for (let t = 0; t < ms; t += 10) {
      for (const [name, core] of cores) {
        core.tick();
        const out = core.takeOutput();
        for (const p of out.packets) {
          const bytes = encodePacket(p.msgs);
          if (p.to === "a") received.push([name, bytes]);
          get(p.to).receive(name, bytes);
        }
        for (const s of out.streams) get(s.to).step(name, [s.msg]);
      }
    }
  };
  run(2000);
  get("b").setTags({ role: "web" });
  get("c").userEvent("deploy", new Uint8Array([1]));
  run(3000);
  const a = get("a");
  a.takeOutput();
  expect(a.members().map((m) => `${m.name}:${m.state}`)).toEqual(["a:alive", "b:alive", "c:alive"]);
  const digest = () =>
    JSON.stringify([
      a.members(),
      a.incarnation,
      a.eventClock,
      a.healthScore,
      a.pendingBroadcasts(),
    ]);
  const before = digest();
  const staleBefore = a.stats.stale;
  expect(received.length).toBeGreaterThan(10);
  for (const [from, bytes] of received) a.receive(from, bytes);
  const out = a.takeOutput();
  expect(out.events).toEqual([]);
  expect(digest()).toBe(before);
  expect(a.stats.stale).toBeGreaterThan(staleBefore);
});
