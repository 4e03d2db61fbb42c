// Proves keyring persistence: the file is Serf's JSON array (primary first), written with mode
// 0600 and replaced atomically; a bad file is refused naming the file and entry; and a node
// whose persist hook fails answers with that error and keeps its keyring unchanged, so memory
// and file never disagree. Uses a one-member cluster on a real GossipCore driven by hand.
import { describe, expect, test } from "bun:test";
import { Buffer } from "node:buffer";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GossipCore, makeConfig, type QueryEvent } from "../gossip/mod.ts";
import { Prng } from "../lib/mod.ts";
import { generateKey, Keyring, parseKey } from "./keyring.ts";
import { readKeyringFile, writeKeyringFile } from "./keyring_file.ts";
import { KeyringOps, type KeyringOpsOptions, type KeyringResult } from "./keyring_ops.ts";

function dir(): string {
  return mkdtempSync(join(tmpdir(), "tock-keyring-"));
}

/** One member on a real core; `run` ticks it and delivers its query output until `p` settles. */
function oneNode(keys: string[], opts: KeyringOpsOptions) {
  const core = new GossipCore({
    name: "a",
    addr: "a",
    config: makeConfig("fast"),
    prng: new Prng(3),
  });
  const keyring = new Keyring(keys.map(parseKey));
  const listeners: Array<(e: QueryEvent) => void> = [];
  const ops = new KeyringOps({
    core,
    keyring,
    onQuery: (fn) => {
      listeners.push(fn);
      return () => {};
    },
  }, opts);
  const run = async (p: Promise<KeyringResult>): Promise<KeyringResult> => {
    let r: KeyringResult | undefined;
    void p.then((v) => (r = v));
    for (let i = 0; i < 1000 && r === undefined; i++) {
      core.tick();
      for (const q of core.takeOutput().queries) for (const fn of listeners) fn(q);
      await Promise.resolve();
    }
    if (r === undefined) throw new Error("keyring operation never finished");
    return r;
  };
  return { keyring, ops, run };
}

describe("keyring file", () => {
  test("write then read gives the same keys, primary first, in a 0600 file", () => {
    const path = join(dir(), "keyring.json");
    const keys = [generateKey(32), generateKey(16)];
    writeKeyringFile(path, keys);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual(keys);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const ring = readKeyringFile(path);
    expect(ring.keys().map((k) => Buffer.from(k).toString("base64"))).toEqual(keys);
    writeKeyringFile(path, [keys[1] as string]);
    expect(readKeyringFile(path).size).toBe(1);
  });

  test("a bad keyring file is refused naming the file and the entry", () => {
    const d = dir();
    const cases: Array<[string, RegExp]> = [
      ["{", /not readable JSON/],
      ["[]", /JSON array of 1\.\.8/],
      ['["abc"]', /entry 0: .*16, 24 or 32/],
      ["[1]", /entry 0 is not a string/],
    ];
    for (const [text, why] of cases) {
      const path = join(d, "k.json");
      writeFileSync(path, text);
      expect(() => readKeyringFile(path)).toThrow(why);
      expect(() => readKeyringFile(path)).toThrow(path);
    }
    expect(() => readKeyringFile(join(d, "missing.json"))).toThrow(/missing\.json/);
  });

  test("each change is persisted before the node answers ok", async () => {
    const path = join(dir(), "keyring.json");
    const k1 = generateKey();
    const k2 = generateKey();
    const n = oneNode([k1], { persist: (keys) => writeKeyringFile(path, keys) });
    expect((await n.run(n.ops.install(k2))).acks).toBe(1);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual([k1, k2]);
    expect((await n.run(n.ops.use(k2))).primaryKeys).toEqual({ [k2]: 1 });
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual([k2, k1]);
  });

  test("a failing persist hook makes the node answer that error and keep its keys", async () => {
    const k1 = generateKey();
    const n = oneNode([k1], {
      persist: () => {
        throw new Error("disk full writing keyring.json");
      },
    });
    const r = await n.run(n.ops.install(generateKey()));
    expect([r.acks, r.errors]).toEqual([0, { a: "disk full writing keyring.json" }]);
    expect(n.keyring.size).toBe(1);
    expect(r.keys).toEqual({ [k1]: 1 });
  });
});
