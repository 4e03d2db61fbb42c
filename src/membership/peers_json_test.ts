// Proves peers.json (hashicorp/raft's recovery format, as Dkron documents it) is read strictly:
// good files parse, every kind of bad file is one clear error naming the entry.
import { describe, expect, test } from "bun:test";
import { parsePeersJson, resolvePeerIds } from "./mod.ts";

describe("parsePeersJson", () => {
  test("Dkron's and Consul's files parse; non_voter defaults to false", () => {
    expect(
      parsePeersJson(
        JSON.stringify([
          { id: "dkron1", address: "10.0.0.1:6868" },
          {
            id: "adf4238a-882b-9ddc-4a9d-5b6758e4159e",
            address: "[fd00::2]:6868",
            non_voter: true,
          },
        ]),
      ),
    ).toEqual([
      { id: "dkron1", address: "10.0.0.1:6868", nonVoter: false },
      { id: "adf4238a-882b-9ddc-4a9d-5b6758e4159e", address: "[fd00::2]:6868", nonVoter: true },
    ]);
  });

  test("bad files are one clear error each", () => {
    const bad = (v: unknown) => () => parsePeersJson(typeof v === "string" ? v : JSON.stringify(v));
    expect(bad("[{")).toThrow("peers.json is not valid JSON");
    expect(bad({ id: "a" })).toThrow("peers.json must be a JSON array");
    expect(bad([])).toThrow("peers.json lists no servers");
    expect(bad(["a"])).toThrow('peers.json entry 1 must be an object with "id" and "address"');
    expect(bad([{ address: "10.0.0.1:6868" }])).toThrow('entry 1: "id" must be a non-empty string');
    expect(bad([{ id: "a", address: "10.0.0.1" }])).toThrow(
      'entry 1: address "10.0.0.1" is not host:port',
    );
    expect(bad([{ id: "a", address: "10.0.0.1:0" }])).toThrow("is not host:port");
    expect(bad([{ id: "a", address: 6868 }])).toThrow('"address" must be a "host:port" string');
    expect(bad([{ id: "a", address: "h:1", non_voter: "no" }])).toThrow(
      '"non_voter" must be true or false',
    );
    expect(bad([{ id: "a", address: "h:1", nonvoter: true }])).toThrow('unknown field "nonvoter"');
    expect(bad([{ id: "a", address: "h:1" }, { id: "a", address: "h:2" }])).toThrow(
      'entry 2: id "a" is listed twice',
    );
    expect(bad([{ id: "a", address: "h:1" }, { id: "b", address: "h:1" }])).toThrow(
      'entry 2: address "h:1" is listed twice',
    );
    expect(bad([{ id: "a", address: "h:1", non_voter: true }])).toThrow("lists no voter");
    expect(() => parsePeersJson("[]", "/data/raft/peers.json")).toThrow(
      "/data/raft/peers.json lists no servers",
    );
  });

  test("an entry naming this node by name resolves to its node id", () => {
    const entries = parsePeersJson('[{"id":"s1","address":"h:1"},{"id":"id-s2","address":"h:2"}]');
    expect(resolvePeerIds(entries, { name: "s1", id: "id-s1" }).map((p) => p.id)).toEqual([
      "id-s1",
      "id-s2",
    ]);
  });
});
