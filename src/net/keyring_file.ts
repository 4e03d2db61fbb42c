/**
 * The keyring file (Serf's format): a JSON array of base64 keys, primary first. Written
 * atomically (temp file, fsync, rename) so a crash leaves the old or the new keyring, never a
 * torn one. Hook it up with `attachKeyringOps(shell, { persist: (keys) =>
 * writeKeyringFile(path, keys) })` and start the node with `readKeyringFile(path)`.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { errorMessage, invalid, limits } from "../lib/mod.ts";
import { Keyring, parseKey } from "./keyring.ts";

/** Reads and validates a keyring file; throws invalid naming the file and the problem. */
export function readKeyringFile(path: string): Keyring {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw invalid(`keyring file ${path} is not readable JSON: ${errorMessage(e)}`);
  }
  if (
    !Array.isArray(parsed) || parsed.length === 0 || parsed.length > limits.gossipKeyringKeysMax
  ) {
    throw invalid(
      `keyring file ${path} must hold a JSON array of 1..${limits.gossipKeyringKeysMax} base64 keys`,
    );
  }
  const ring = new Keyring();
  for (const [i, k] of parsed.entries()) {
    if (typeof k !== "string") throw invalid(`keyring file ${path}: entry ${i} is not a string`);
    try {
      ring.install(parseKey(k));
    } catch (e) {
      throw invalid(`keyring file ${path}: entry ${i}: ${errorMessage(e)}`);
    }
  }
  return ring;
}

/** Writes `keys` (base64, primary first) to `path` atomically, mode 0600 (they are secrets). */
export function writeKeyringFile(path: string, keys: readonly string[]): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, `${JSON.stringify(keys, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
