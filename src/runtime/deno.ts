/** Deno adapter: Deno.serve and node:sqlite (bun:sqlite does not exist on Deno). */
import { DatabaseSync } from "node:sqlite";
import process from "node:process";
import { sqliteFileLock, wrapDb } from "./sqlite_common.ts";
import type { Runtime, Server } from "./types.ts";

/** The slice of the Deno namespace this adapter uses (Deno's own types are not in tsconfig). */
declare const Deno: {
  version: { deno: string };
  serve(
    opts: {
      hostname: string;
      port: number;
      onListen?: (addr: { port: number }) => void;
      cert?: string;
      key?: string;
    },
    handler: (
      req: Request,
      info: { remoteAddr: { hostname?: string } },
    ) => Response | Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void>; finished: Promise<void> };
};

export const denoRuntime: Runtime = {
  name: "deno",
  version: Deno.version.deno,
  serve(opts): Server {
    if (opts.tls?.requireClientCert) {
      throw new Error(
        "client certificates (--client-cert-auth) are not supported on Deno.serve; run Tock on Bun",
      );
    }
    const s = Deno.serve(
      {
        hostname: opts.hostname,
        port: opts.port,
        onListen: () => {},
        ...(opts.tls === undefined ? {} : { cert: opts.tls.cert, key: opts.tls.key }),
      },
      (req, info) => opts.fetch(req, { remoteAddress: info.remoteAddr.hostname }),
    );
    return {
      port: s.addr.port,
      hostname: opts.hostname,
      stop: () => s.shutdown(),
      reloadTls: () =>
        Promise.reject(new Error("certificate reload is not supported on Deno; restart the agent")),
    };
  },
  openDb(path) {
    const raw = new DatabaseSync(path);
    return wrapDb(raw, (sql) => raw.prepare(sql) as any);
  },
  lockFile(path) {
    return sqliteFileLock(new DatabaseSync(path));
  },
  onSignal(signal, handler) {
    process.on(signal, handler);
  },
  env: (name) => process.env[name],
  args: () => process.argv.slice(2),
  exit: (code) => process.exit(code),
  nowMs: () => Date.now(),
};
