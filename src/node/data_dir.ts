/**
 * One agent per data dir. Two processes on the same state.db would both schedule, kill each
 * other's runs as orphans and diverge in their caches, so the second one must refuse to start.
 * The lock is an OS lock that dies with its holder (no stale pid file can block a restart); the
 * holder writes its PID beside it only so that the refusal can name it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { TockError } from "../lib/mod.ts";
import type { FileLock, Runtime } from "../runtime/mod.ts";

export function lockDataDir(rt: Runtime, dataDir: string): FileLock {
  const lockPath = join(dataDir, "lock.db");
  const pidPath = join(dataDir, "lock.pid");
  const lock = rt.lockFile(lockPath);
  if (!lock) {
    let holder = "another process";
    try {
      const pid = readFileSync(pidPath, "utf8").trim();
      if (/^\d+$/.test(pid)) holder = `PID ${pid}`;
    } catch { /* the holder has not written it yet */ }
    throw new TockError(
      "unavailable",
      `data dir ${dataDir} is in use by another tock agent (${holder} holds ${lockPath}); stop it or choose another --data-dir`,
    );
  }
  writeFileSync(pidPath, `${process.pid}\n`);
  return lock;
}
