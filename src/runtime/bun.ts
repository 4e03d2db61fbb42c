/** Bun adapter: Bun.serve and bun:sqlite. */
import { Database } from "bun:sqlite";
import { sqliteFileLock, wrapDb } from "./sqlite_common.ts";
import type { Runtime, Server } from "./types.ts";

export const bunRuntime: Runtime = {
  name: "bun",
  version: Bun.version,
  serve(opts): Server {
    const s = Bun.serve({
      hostname: opts.hostname,
      port: opts.port,
      fetch: opts.fetch,
      idleTimeout: 0, // server streams (watch) may be idle for long stretches
    });
    return {
      port: s.port ?? opts.port,
      hostname: opts.hostname,
      stop: (force = false) => s.stop(force),
    };
  },
  openDb(path) {
    const raw = new Database(path, { create: true, strict: true });
    return wrapDb(raw, (sql) => raw.prepare(sql));
  },
  lockFile(path) {
    return sqliteFileLock(new Database(path, { create: true, strict: true }));
  },
  onSignal(signal, handler) {
    process.on(signal, handler);
  },
  env: (name) => process.env[name],
  args: () => process.argv.slice(2),
  exit: (code) => process.exit(code),
  nowMs: () => Date.now(),
};
