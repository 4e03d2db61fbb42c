/** Bun adapter: Bun.serve and bun:sqlite. */
import { Database } from "bun:sqlite";
import { sqliteFileLock, wrapDb } from "./sqlite_common.ts";
import type { Runtime, Server, ServeTls } from "./types.ts";

export const bunRuntime: Runtime = {
  name: "bun",
  version: Bun.version,
  serve(opts): Server {
    const start = (port: number, tls: ServeTls | undefined) =>
      Bun.serve({
        hostname: opts.hostname,
        port,
        fetch: (req, server) => opts.fetch(req, { remoteAddress: server.requestIP(req)?.address }),
        idleTimeout: 0, // server streams (watch) may be idle for long stretches
        // Bun.serve cannot swap certificates in place: a TLS reload binds a second listener on
        // the same port (SO_REUSEPORT, Linux) and then stops the first one gracefully.
        ...(tls === undefined ? {} : {
          reusePort: true,
          tls: {
            cert: tls.cert,
            key: tls.key,
            ...(tls.ca === undefined ? {} : { ca: tls.ca }),
            requestCert: tls.requireClientCert === true,
            rejectUnauthorized: tls.requireClientCert === true,
          },
        }),
      });
    let s = start(opts.port, opts.tls);
    const port = s.port ?? opts.port;
    return {
      port,
      hostname: opts.hostname,
      stop: (force = false) => s.stop(force),
      async reloadTls(tls) {
        if (opts.tls === undefined) throw new Error("this server was started without TLS");
        const next = start(port, tls);
        const old = s;
        s = next;
        await old.stop(false);
      },
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
