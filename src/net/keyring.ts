/**
 * AES-GCM keyring for gossip (memberlist security.go, wire version 1): encrypt with the primary
 * key, decrypt with any installed key; rotate by install → use → remove. Synchronous through
 * node:crypto (works on Bun and Deno) so a datagram is sealed and opened in one turn.
 * Frame: version byte 1 | 12-byte nonce | ciphertext | 16-byte tag  (29 bytes of overhead).
 */
import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { invalid, limits, TockError } from "../lib/mod.ts";

export const encryptionVersion = 1;
export const nonceBytes = 12;
export const tagBytes = 16;
/** Bytes added to a sealed payload. */
export const encryptionOverheadBytes = 1 + nonceBytes + tagBytes;

function checkKey(key: Uint8Array): void {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw invalid(`gossip key is ${key.length} bytes; AES-GCM needs 16, 24 or 32`);
  }
}

function algo(key: Uint8Array): "aes-128-gcm" | "aes-192-gcm" | "aes-256-gcm" {
  return key.length === 16 ? "aes-128-gcm" : key.length === 24 ? "aes-192-gcm" : "aes-256-gcm";
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A fresh random key, base64 (what `tock keygen` prints). */
export function generateKey(bytes: 16 | 24 | 32 = 32): string {
  checkKey(new Uint8Array(bytes));
  return randomBytes(bytes).toString("base64");
}

/** Decodes a base64 key and checks its length. */
export function parseKey(base64: string): Uint8Array {
  const key = new Uint8Array(Buffer.from(base64.trim(), "base64"));
  checkKey(key);
  return key;
}

export class Keyring {
  /** keys[0] is the primary. */
  #keys: Uint8Array[] = [];

  constructor(keys: readonly Uint8Array[] = []) {
    for (const k of keys) this.install(k);
  }

  get size(): number {
    return this.#keys.length;
  }

  /** Installs a key for decryption (the first installed key becomes primary). */
  install(key: Uint8Array): void {
    checkKey(key);
    if (this.#keys.some((k) => sameKey(k, key))) return;
    if (this.#keys.length >= limits.gossipKeyringKeysMax) {
      throw new TockError(
        "too_large",
        `gossip keyring already holds ${limits.gossipKeyringKeysMax} keys; remove one first`,
      );
    }
    this.#keys.push(new Uint8Array(key));
  }

  /** Copies of the installed keys, primary first. */
  keys(): Uint8Array[] {
    return this.#keys.map((k) => new Uint8Array(k));
  }

  /** True when `key` is installed. */
  has(key: Uint8Array): boolean {
    return this.#keys.some((k) => sameKey(k, key));
  }

  /** Makes an installed key the primary (used to encrypt). */
  use(key: Uint8Array): void {
    const i = this.#keys.findIndex((k) => sameKey(k, key));
    if (i < 0) throw new TockError("not_found", "gossip key to use is not installed");
    const [k] = this.#keys.splice(i, 1);
    if (k !== undefined) this.#keys.unshift(k);
  }

  /** Removes a key; the primary cannot be removed. */
  remove(key: Uint8Array): void {
    const i = this.#keys.findIndex((k) => sameKey(k, key));
    if (i < 0) throw new TockError("not_found", "gossip key to remove is not installed");
    if (i === 0) {
      throw new TockError("conflict", "cannot remove the primary gossip key; use another first");
    }
    this.#keys.splice(i, 1);
  }

  /** Seals `plain` with the primary key; `aad` (the cluster label) is authenticated. */
  encrypt(plain: Uint8Array, aad: Uint8Array): Uint8Array {
    const key = this.#keys[0];
    if (key === undefined) throw new TockError("invalid", "gossip keyring has no key");
    const nonce = randomBytes(nonceBytes);
    const c = createCipheriv(algo(key), key, nonce);
    c.setAAD(aad);
    const body = Buffer.concat([c.update(plain), c.final()]);
    const out = new Uint8Array(encryptionOverheadBytes + plain.length);
    out[0] = encryptionVersion;
    out.set(nonce, 1);
    out.set(body, 1 + nonceBytes);
    out.set(c.getAuthTag(), 1 + nonceBytes + body.length);
    return out;
  }

  /** Opens a sealed frame with any installed key; undefined when none authenticates it. */
  decrypt(sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
    if (sealed.length < encryptionOverheadBytes || sealed[0] !== encryptionVersion) {
      return undefined;
    }
    const nonce = sealed.subarray(1, 1 + nonceBytes);
    const body = sealed.subarray(1 + nonceBytes, sealed.length - tagBytes);
    const tag = sealed.subarray(sealed.length - tagBytes);
    for (const key of this.#keys) {
      try {
        const d = createDecipheriv(algo(key), key, nonce);
        d.setAAD(aad);
        d.setAuthTag(tag);
        const plain = Buffer.concat([d.update(body), d.final()]);
        return new Uint8Array(plain.buffer, plain.byteOffset, plain.length);
      } catch {
        // wrong key or tampered: try the next one
      }
    }
    return undefined;
  }
}
