// Proves the gossip core's building blocks: profile validation, memberlist's suspicion and
// retransmit formulas, the broadcast queue's replace/limit rules, and a lossless, strict codec.
import { describe, expect, test } from "bun:test";
import { limits, TockError } from "../lib/mod.ts";
import { BroadcastQueue } from "./broadcast.ts";
import { decodePacket, decodeStream, decodeTags, encodePacket, encodeTags } from "./codec.ts";
import { makeConfig } from "./config.ts";
import { confirmSuspicion, newSuspicion, suspicionMinMs, suspicionTimeoutMs } from "./suspicion.ts";
import { retransmitLimit } from "./mod.ts";
import type { Msg, PushPullMsg } from "./types.ts";

describe("gossip config", () => {
  test("makeConfig returns memberlist's LAN numbers for the lan profile", () => {
    const c = makeConfig("lan");
    expect([c.probeIntervalMs, c.probeTimeoutMs, c.indirectChecks, c.suspicionMult]).toEqual([
      1000,
      500,
      3,
      4,
    ]);
    expect([c.gossipIntervalMs, c.gossipNodes, c.retransmitMult, c.pushPullIntervalMs]).toEqual([
      200,
      3,
      4,
      30_000,
    ]);
  });
  test("makeConfig rejects a probe timeout that is not below the probe interval", () => {
    expect(() => makeConfig("fast", { probeTimeoutMs: 500 })).toThrow(TockError);
  });
  test("makeConfig rejects times that are not a multiple of the tick", () => {
    expect(() => makeConfig("lan", { gossipIntervalMs: 205 })).toThrow(/multiple of tickMs/);
  });
  test("makeConfig rejects an unknown profile name", () => {
    expect(() => makeConfig("wan" as "lan")).toThrow(/unknown gossip profile/);
  });
});

describe("suspicion and retransmit formulas", () => {
  test("suspicion minimum is 4 s for N < 10 on lan and scales with log10(N) above", () => {
    expect(suspicionMinMs(4, 5, 1000)).toBe(4000);
    expect(suspicionMinMs(4, 9, 1000)).toBe(4000);
    expect(suspicionMinMs(4, 100, 1000)).toBe(8000);
  });
  test("timeout falls from max to min as confirmations arrive (k = 2)", () => {
    expect(suspicionTimeoutMs(0, 2, 4000, 24000)).toBe(24000);
    expect(suspicionTimeoutMs(1, 2, 4000, 24000)).toBe(11381);
    expect(suspicionTimeoutMs(2, 2, 4000, 24000)).toBe(4000);
    expect(suspicionTimeoutMs(5, 0, 4000, 24000)).toBe(4000);
  });
  test("the first accuser is not a confirmation and duplicates do not count", () => {
    const s = newSuspicion("a", 1, 2, 4000, 24000, 100);
    expect(s.deadlineMs).toBe(24100);
    expect(confirmSuspicion(s, "a")).toBe(false);
    expect(confirmSuspicion(s, "b")).toBe(true);
    expect(confirmSuspicion(s, "b")).toBe(false);
    expect(s.deadlineMs).toBe(100 + 11381);
    expect(confirmSuspicion(s, "c")).toBe(true);
    expect(s.deadlineMs).toBe(4100);
  });
  test("retransmit limit is RetransmitMult × ceil(log10(N + 1))", () => {
    expect(retransmitLimit(4, 5)).toBe(4);
    expect(retransmitLimit(4, 9)).toBe(4);
    expect(retransmitLimit(4, 10)).toBe(8);
  });
});

describe("broadcast queue", () => {
  const alive = (node: string, inc: number): Msg => ({
    type: "alive",
    node,
    incarnation: inc,
    addr: node,
    meta: new Uint8Array(),
  });
  test("a newer broadcast about the same node replaces the older one", () => {
    const q = new BroadcastQueue();
    q.enqueue("b", alive("b", 1));
    q.enqueue("b", alive("b", 2));
    expect(q.length).toBe(1);
    expect(q.take(1400, 4)).toEqual([alive("b", 2)]);
  });
  test("a broadcast is retired after the transmit limit", () => {
    const q = new BroadcastQueue();
    q.enqueue("b", alive("b", 1));
    for (let i = 0; i < 3; i++) expect(q.take(1400, 3).length).toBe(1);
    expect(q.take(1400, 3).length).toBe(0);
  });
  test("a broadcast copy is never spent twice on the same member", () => {
    const q = new BroadcastQueue();
    q.enqueue("b", alive("b", 1));
    expect(q.take(1400, 4, [], "x:1").length).toBe(1);
    expect(q.take(1400, 4, [], "x:1").length).toBe(0);
    expect(q.take(1400, 4, [], "y:1").length).toBe(1);
  });
  test("take respects the byte budget and sends least-transmitted first", () => {
    const q = new BroadcastQueue();
    q.enqueue("b", alive("b", 1));
    q.take(1400, 10);
    q.enqueue("c", alive("c", 1));
    const [first] = q.take(20, 10);
    expect(first).toEqual(alive("c", 1));
    expect(q.take(3, 10)).toEqual([]);
  });
});

describe("codec", () => {
  const all: Msg[] = [
    { type: "ping", seqNo: 7, node: "b", sourceNode: "a", sourceAddr: "127.0.0.1:1" },
    {
      type: "indirectPing",
      seqNo: 8,
      node: "c",
      nodeAddr: "127.0.0.1:3",
      nack: true,
      sourceNode: "a",
      sourceAddr: "127.0.0.1:1",
    },
    { type: "ack", seqNo: 9 },
    { type: "nack", seqNo: 10 },
    { type: "alive", incarnation: 2 ** 40, node: "b", addr: "h:1", meta: encodeTags({ r: "w" }) },
    { type: "suspect", incarnation: 3, node: "b", from: "a" },
    { type: "dead", incarnation: 3, node: "b", from: "b" },
    { type: "userEvent", ltime: 12, name: "deploy", payload: new Uint8Array([1, 2]) },
  ];
  test("every datagram message round-trips through encodePacket/decodePacket", () => {
    const d = decodePacket(encodePacket(all));
    expect(d.ok && d.value).toEqual(all);
  });
  test("push-pull round-trips as a stream frame but is refused inside a datagram", () => {
    const pp: PushPullMsg = {
      type: "pushPull",
      join: true,
      reply: false,
      sourceNode: "a",
      sourceAddr: "h:1",
      states: [{ node: "a", addr: "h:1", meta: new Uint8Array(), incarnation: 5, state: "left" }],
      eventLtime: 4,
      events: [],
    };
    const d = decodeStream(encodePacket([pp]));
    expect(d.ok && d.value).toEqual(pp);
    expect(decodePacket(encodePacket([pp])).ok).toBe(false);
  });
  test("decodePacket refuses empty names, oversized packets and truncated bytes", () => {
    expect(
      decodePacket(encodePacket([{ type: "suspect", incarnation: 1, node: "", from: "a" }])).ok,
    )
      .toBe(false);
    expect(decodePacket(new Uint8Array(limits.gossipPacketBytesMax + 1)).ok).toBe(false);
    const bytes = encodePacket(all);
    expect(decodePacket(bytes.subarray(0, bytes.length - 3)).ok).toBe(false);
    expect(decodePacket(new Uint8Array()).ok).toBe(false);
  });
  test("tags encode sorted so equal maps give equal bytes, and decode back", () => {
    const a = encodeTags({ z: "1", a: "2" });
    expect(a).toEqual(encodeTags({ a: "2", z: "1" }));
    expect(decodeTags(a)).toEqual({ a: "2", z: "1" });
    expect(decodeTags(new Uint8Array([0xff, 0xff]))).toBeUndefined();
  });
});
