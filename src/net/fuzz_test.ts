// Proves that hostile input cannot crash or corrupt a live gossip core: ≥ 100k random and
// mutated packets (random bytes, flipped bytes, truncated, oversized, plaintext or wrong key
// against a keyring, tampered ciphertext) go through the shell's frame check and the core's
// strict decoder. No exception escapes, every rejected packet is counted, and no rejected
// packet changes the core's state or produces output.
import { describe, expect, test } from "bun:test";
import { encodePacket, GossipCore, makeConfig, type Msg } from "../gossip/mod.ts";
import { Prng } from "../lib/mod.ts";
import { generateKey, Keyring, parseKey } from "./keyring.ts";
import { type FrameSecurity, openFrame, sealFrame } from "./packet.ts";

function liveCore(): GossipCore {
  const core = new GossipCore({
    name: "a",
    addr: "a:1",
    config: makeConfig("lan"),
    prng: new Prng(1),
    tags: { role: "web" },
  });
  for (const n of ["b", "c", "d"]) {
    core.step(`${n}:1`, [{
      type: "alive",
      node: n,
      addr: `${n}:1`,
      incarnation: 3,
      meta: new Uint8Array(),
    }]);
  }
  core.step("b:1", [{ type: "suspect", node: "c", incarnation: 3, from: "b" }]);
  for (let i = 0; i < 150; i++) core.tick();
  core.takeOutput();
  return core;
}

function digest(core: GossipCore): string {
  return JSON.stringify([
    core.members(),
    core.incarnation,
    core.eventClock,
    core.healthScore,
    core.pendingBroadcasts(),
  ]);
}

const valid: Msg[][] = [
  [{ type: "ping", seqNo: 5, node: "a", sourceNode: "b", sourceAddr: "b:1" }],
  [{ type: "ack", seqNo: 1 }, { type: "nack", seqNo: 2 }],
  [{
    type: "alive",
    node: "e",
    addr: "e:1",
    incarnation: 1,
    meta: new Uint8Array([10, 6, 10, 1, 107, 18, 1, 118]),
  }],
  [{ type: "suspect", node: "b", incarnation: 3, from: "d" }, {
    type: "dead",
    node: "d",
    incarnation: 2,
    from: "b",
  }],
  [{ type: "userEvent", ltime: 4, name: "deploy", payload: new Uint8Array([1, 2, 3]) }],
  [{
    type: "indirectPing",
    seqNo: 9,
    node: "c",
    nodeAddr: "c:1",
    nack: true,
    sourceNode: "b",
    sourceAddr: "b:1",
  }],
];

describe("gossip fuzz", () => {
  test(
    "120k random and mutated packets: no exception, rejected ones counted and without effect",
    () => {
      const prng = new Prng(20261127);
      const plainCore = liveCore();
      const keyedCore = liveCore();
      const ring = new Keyring([parseKey(generateKey())]);
      const wrongRing = new Keyring([parseKey(generateKey())]);
      const keyed: FrameSecurity = { label: "prod", keyring: ring };
      const encoded = valid.map((m) => encodePacket(m));
      const total = 120_000;
      const rejected = { plain: 0, keyed: 0 };
      let accepted = 0;
      const failures: string[] = [];
      for (let i = 0; i < total; i++) {
        const base = encoded[prng.int(0, encoded.length)] as Uint8Array;
        let bytes: Uint8Array;
        const kind = i % 8;
        switch (kind) {
          case 0: // random bytes, sometimes beyond the datagram limit
            bytes = new Uint8Array(prng.int(0, 1600)).map(() => prng.int(0, 256));
            break;
          case 1: // flipped bytes
          case 2: {
            bytes = new Uint8Array(base);
            for (let f = prng.int(1, 4); f > 0; f--) {
              const at = prng.int(0, bytes.length);
              bytes[at] = (bytes[at] ?? 0) ^ (1 << prng.int(0, 8));
            }
            break;
          }
          case 3: // truncated
            bytes = base.subarray(0, prng.int(0, base.length));
            break;
          case 4: { // oversized: valid prefix padded past 1400 bytes
            bytes = new Uint8Array(1401 + prng.int(0, 500));
            bytes.set(base);
            break;
          }
          case 5: // sealed with the wrong key
            bytes = sealFrame({ label: "prod", keyring: wrongRing }, base);
            break;
          case 6: { // sealed with the right key, then tampered
            bytes = sealFrame(keyed, base);
            const at = prng.int(0, bytes.length);
            bytes[at] = (bytes[at] ?? 0) ^ (1 << prng.int(0, 8));
            break;
          }
          default: // plaintext with the right label sent to a keyed node
            bytes = sealFrame({ label: "prod" }, base);
        }
        const useKeyed = kind >= 5;
        const core = useKeyed ? keyedCore : plainCore;
        const before = digest(core);
        try {
          let ok: boolean;
          if (useKeyed) {
            const o = openFrame(keyed, bytes);
            ok = o.ok && core.receive("z:1", o.plain);
            if (!o.ok) core.stats.rejected++;
          } else {
            ok = core.receive("z:1", bytes);
          }
          if (ok) {
            accepted++;
            core.takeOutput();
            continue;
          }
          if (useKeyed) rejected.keyed++;
          else rejected.plain++;
          const out = core.takeOutput();
          if (
            digest(core) !== before ||
            out.packets.length + out.events.length + out.streams.length > 0
          ) {
            failures.push(`packet ${i} (kind ${kind}) was rejected but changed state`);
          }
        } catch (e) {
          failures.push(
            `packet ${i} (kind ${kind}) threw: ${e instanceof Error ? e.message : String(e)}`,
          );
        }
        if (failures.length > 5) break;
      }
      expect(failures).toEqual([]);
      // Every keyed input was mutated, foreign or plaintext: all must be rejected.
      expect(rejected.keyed).toBe((total / 8) * 3);
      expect(keyedCore.stats.rejected).toBe(rejected.keyed);
      expect(plainCore.stats.malformed + plainCore.stats.oversized).toBe(rejected.plain);
      expect(rejected.plain + accepted + rejected.keyed).toBe(total);
      // The mutations do reach the decoder's interesting paths: many rejected, some accepted.
      expect(rejected.plain).toBeGreaterThan(total / 4);
      expect(accepted).toBeGreaterThan(100);
    },
    60_000,
  );
});
