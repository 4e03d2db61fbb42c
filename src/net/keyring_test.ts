// Proves the gossip frame security: AES-GCM with 16/24/32-byte keys, a keyring that seals with
// the primary and opens with any installed key, rotation by install → use → remove, rejection
// of plaintext when a keyring is set, and cluster labels that keep two clusters apart.
import { describe, expect, test } from "bun:test";
import { Buffer } from "node:buffer";
import { generateKey, Keyring, parseKey } from "./keyring.ts";
import { openFrame, sealFrame } from "./packet.ts";

const plain = new TextEncoder().encode("gossip packet");

describe("keyring", () => {
  test("seals and opens with 16, 24 and 32-byte keys, adding 29 bytes", () => {
    for (const n of [16, 24, 32] as const) {
      const ring = new Keyring([parseKey(generateKey(n))]);
      const sealed = sealFrame({ keyring: ring }, plain);
      expect(sealed.length).toBe(plain.length + 29);
      const o = openFrame({ keyring: ring }, sealed);
      expect(o.ok && o.plain).toEqual(plain);
    }
  });
  test("parseKey refuses a key that is not 16, 24 or 32 bytes", () => {
    expect(() => parseKey(Buffer.from(new Uint8Array(20)).toString("base64"))).toThrow(
      /16, 24 or 32/,
    );
  });
  test("rotation: install → use → remove keeps old frames readable until the old key is removed", () => {
    const k1 = parseKey(generateKey());
    const k2 = parseKey(generateKey());
    const a = new Keyring([k1]);
    const b = new Keyring([k1]);
    const old = sealFrame({ keyring: a }, plain);
    b.install(k2);
    b.use(k2);
    const fresh = sealFrame({ keyring: b }, plain);
    expect(openFrame({ keyring: a }, fresh).ok).toBe(false); // a lacks k2
    a.install(k2);
    expect(openFrame({ keyring: a }, fresh).ok).toBe(true);
    expect(openFrame({ keyring: b }, old).ok).toBe(true);
    expect(() => b.remove(k2)).toThrow(/primary/);
    b.remove(k1);
    expect(openFrame({ keyring: b }, old).ok).toBe(false);
  });
  test("with a keyring set, plaintext and tampered frames are rejected", () => {
    const ring = new Keyring([parseKey(generateKey())]);
    expect(openFrame({ keyring: ring }, plain).ok).toBe(false);
    const sealed = sealFrame({ keyring: ring }, plain);
    sealed[sealed.length - 20] = (sealed[sealed.length - 20] ?? 0) ^ 1;
    expect(openFrame({ keyring: ring }, sealed).ok).toBe(false);
  });
  test("a frame with another label, or none, is rejected; the label is authenticated", () => {
    const ring = new Keyring([parseKey(generateKey())]);
    const sealed = sealFrame({ label: "prod", keyring: ring }, plain);
    expect(openFrame({ label: "prod", keyring: ring }, sealed).ok).toBe(true);
    expect(openFrame({ label: "test", keyring: ring }, sealed).ok).toBe(false);
    expect(openFrame({ keyring: ring }, sealed).ok).toBe(false);
    expect(openFrame({ label: "prod" }, sealFrame({}, plain)).ok).toBe(false);
    // Swapping the label bytes breaks authentication even when the receiver expects the new one.
    const relabeled = new Uint8Array(sealed);
    relabeled.set(new TextEncoder().encode("test"), 2);
    expect(openFrame({ label: "test", keyring: ring }, relabeled).ok).toBe(false);
  });
  test("generateKey returns base64 of 32 random bytes by default", () => {
    const k = generateKey();
    expect(Buffer.from(k, "base64").length).toBe(32);
    expect(generateKey()).not.toBe(k);
  });
});
