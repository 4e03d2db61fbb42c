// Proves the query layer's bounds and codec: query and response messages round-trip and are
// refused over their limits; a node refuses to start more than gossipQueriesOpenMax queries;
// its dedupe table holds at most gossipQueriesSeenMax queries (the rest dropped and counted)
// and forgets them after gossipQuerySeenMinMs; answers to unknown queries or from a member
// that already answered are counted stale, never delivered twice.
import { describe, expect, test } from "bun:test";
import { limits, Prng, TockError } from "../lib/mod.ts";
import { decodePacket, encodePacket } from "./codec.ts";
import { makeConfig } from "./config.ts";
import { GossipCore } from "./core.ts";
import type { Msg, QueryMsg } from "./types.ts";

const utf8 = new TextEncoder();

function core(name = "a"): GossipCore {
  return new GossipCore({ name, addr: name, config: makeConfig("fast"), prng: new Prng(7) });
}

function query(id: number, over: Partial<QueryMsg> = {}): QueryMsg {
  return {
    type: "query",
    id,
    name: "_tock_list-keys",
    payload: utf8.encode("p"),
    sourceNode: "b",
    sourceAddr: "b",
    timeoutMs: 1000,
    ...over,
  };
}

describe("gossip queries", () => {
  test("query and query response messages round-trip through the codec", () => {
    const msgs: Msg[] = [
      query(4_000_000_000),
      { type: "queryResponse", id: 9, from: "c", payload: utf8.encode("ok") },
    ];
    const d = decodePacket(encodePacket(msgs));
    expect(d.ok && d.value).toEqual(msgs);
  });

  test("the codec refuses a query over its payload limit, with no name or a zero timeout", () => {
    const big = new Uint8Array(limits.gossipQueryPayloadBytesMax + 1);
    for (
      const [m, why] of [
        [query(1, { payload: big }), /payload/],
        [query(1, { name: "" }), /name is empty/],
        [query(1, { timeoutMs: 0 }), /timeout/],
        [{
          type: "queryResponse",
          id: 1,
          from: "c",
          payload: new Uint8Array(limits.gossipQueryResponseBytesMax + 1),
        } as Msg, /response/],
      ] as const
    ) {
      const d = decodePacket(encodePacket([m]));
      expect(d.ok).toBe(false);
      if (!d.ok) expect(d.error).toMatch(why);
    }
  });

  test("query() refuses a bad timeout, a large payload and more than the open-query limit", () => {
    const a = core();
    expect(() => a.query("q", new Uint8Array(), 0)).toThrow(/timeout/);
    expect(() => a.query("q", new Uint8Array(limits.gossipQueryPayloadBytesMax + 1), 100))
      .toThrow(/limit/);
    for (let i = 0; i < limits.gossipQueriesOpenMax; i++) a.query("q", new Uint8Array(), 100);
    let err: unknown;
    try {
      a.query("q", new Uint8Array(), 100);
    } catch (e) {
      err = e;
    }
    expect(err instanceof TockError && err.kind).toBe("overloaded");
    // At the deadline every query reports done and frees its slot.
    for (let t = 0; t < 100; t += a.config.tickMs) a.tick();
    const done = a.takeOutput().queries.filter((q) => q.type === "queryDone");
    expect(done.length).toBe(limits.gossipQueriesOpenMax);
    expect(a.openQueries).toBe(0);
  });

  test("the dedupe table is bounded, counts what it drops and forgets old queries", () => {
    const a = core();
    const n = limits.gossipQueriesSeenMax + 5;
    for (let i = 0; i < n; i++) a.step("b", [query(i)]);
    a.step("b", [query(0)]); // a duplicate: dropped as stale, not delivered again
    const delivered = a.takeOutput().queries.filter((q) => q.type === "query");
    expect(delivered.length).toBe(limits.gossipQueriesSeenMax);
    expect(a.stats.queueDropped).toBe(5);
    expect(a.stats.stale).toBe(1);
    for (let t = 0; t <= limits.gossipQuerySeenMinMs + 1000; t += a.config.tickMs) a.tick();
    a.step("b", [query(0)]);
    expect(a.takeOutput().queries.filter((q) => q.type === "query").length).toBe(1);
  });

  test("answers to an unknown query or a second answer from one member are counted stale", () => {
    const a = core();
    const id = a.query("q", new Uint8Array(), 1000);
    a.step("b", [{ type: "queryResponse", id, from: "b", payload: utf8.encode("1") }]);
    a.step("b", [{ type: "queryResponse", id, from: "b", payload: utf8.encode("2") }]);
    a.step("b", [{ type: "queryResponse", id: id + 1, from: "b", payload: utf8.encode("3") }]);
    const answers = a.takeOutput().queries.filter((q) => q.type === "queryResponse");
    expect(answers.map((q) => q.type === "queryResponse" && q.from)).toEqual(["b"]);
    expect(a.stats.stale).toBe(2);
    expect(a.stats.queryResponses).toBe(1);
  });
});
