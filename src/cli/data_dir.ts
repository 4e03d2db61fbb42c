/**
 * Checks the agent's data dir before the node opens its stores, so a bad path is one line that
 * names the path and the problem (not `EEXIST … mkdir` or SQLite's "readonly database").
 */
import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { invalid } from "../lib/mod.ts";

/** The store files a node keeps in its data dir. */
const storeFiles = ["state.db", "output.db"];

/** Creates the data dir when missing; throws naming the path when it cannot be used. */
export function prepareDataDir(dir: string): string {
  const abs = resolve(dir);
  const fail = (problem: string) => invalid(`data dir ${abs}: ${problem}`);
  let exists = true;
  try {
    if (!statSync(abs).isDirectory()) throw fail("exists and is not a directory");
  } catch (e) {
    if (codeOf(e) !== "ENOENT") throw codeOf(e) === undefined ? e : fail(reason(e));
    exists = false;
  }
  if (!exists) {
    try {
      mkdirSync(abs, { recursive: true });
    } catch (e) {
      throw fail(`cannot be created: ${reason(e)}`);
    }
  }
  try {
    accessSync(abs, constants.W_OK);
  } catch (e) {
    throw fail(`is not writable: ${reason(e)}`);
  }
  for (const f of storeFiles) {
    try {
      accessSync(join(abs, f), constants.W_OK);
    } catch (e) {
      if (codeOf(e) !== "ENOENT") throw fail(`${f} is not writable: ${reason(e)}`);
    }
  }
  return abs;
}

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown })?.code;
  return typeof code === "string" ? code : undefined;
}

function reason(e: unknown): string {
  const plain: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOTDIR: "a parent of it is a file, not a directory",
    EEXIST: "a file is in the way",
    EROFS: "the file system is read-only",
    ENOSPC: "the disk is full",
  };
  const code = codeOf(e);
  return (code && plain[code]) ?? (e instanceof Error ? e.message : String(e));
}
