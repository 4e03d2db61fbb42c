/**
 * The one interface between Tock and its host runtime. Everything that differs between Bun and
 * Deno sits behind it; main.ts is the only place that picks an adapter. Portable node: modules
 * (dgram, child_process, fs) are used directly by the shells and need no adapter.
 */

/** A prepared statement. Parameters are positional (`?`). */
export interface Statement {
  run(...params: SqlValue[]): { changes: number };
  get(...params: SqlValue[]): Row | undefined;
  all(...params: SqlValue[]): Row[];
}

export type SqlValue = string | number | bigint | boolean | null | Uint8Array;
export type Row = Record<string, unknown>;

/** A SQLite connection with the same behaviour on bun:sqlite and node:sqlite. */
export interface Db {
  exec(sql: string): void;
  /** Prepared statements are cached per SQL text. */
  prepare(sql: string): Statement;
  /** Runs fn inside BEGIN IMMEDIATE … COMMIT; rolls back and rethrows on error. */
  tx<T>(fn: () => T): T;
  close(): void;
}

/** PEM texts for serving HTTPS; `ca` with `requireClientCert` makes it mutual TLS. */
export interface ServeTls {
  cert: string;
  key: string;
  /** CA bundle that client certificates must chain to. */
  ca?: string;
  /** Refuse clients without a certificate signed by `ca`. */
  requireClientCert?: boolean;
}

/** Facts about the connection a request came on (the second argument of fetch). */
export interface ConnInfo {
  remoteAddress?: string | undefined;
}

export interface ServeOptions {
  hostname: string;
  /** 0 picks a free port; read the chosen one from Server.port. */
  port: number;
  fetch: (req: Request, info: ConnInfo) => Response | Promise<Response>;
  tls?: ServeTls;
}

export interface Server {
  readonly port: number;
  readonly hostname: string;
  /** Stops accepting; resolves when open connections are closed (or force-closed). */
  stop(force?: boolean): Promise<void>;
  /**
   * Serves new connections with new certificates, without dropping open ones (SIGHUP reload).
   * Throws when the runtime cannot (the old certificates stay in use).
   */
  reloadTls(tls: ServeTls): Promise<void>;
}

export type SignalName = "SIGTERM" | "SIGINT" | "SIGHUP";

/** An exclusive lock on a file, held until release() or until the process dies (the OS drops it). */
export interface FileLock {
  release(): void;
}

export interface Runtime {
  /** "bun" or "deno", for logs and the version command. */
  readonly name: string;
  readonly version: string;
  serve(opts: ServeOptions): Server;
  openDb(path: string): Db;
  /**
   * Takes an exclusive OS lock on `path` (created if missing) without waiting; undefined when
   * another process, or another holder in this one, has it.
   */
  lockFile(path: string): FileLock | undefined;
  onSignal(signal: SignalName, handler: () => void): void;
  env(name: string): string | undefined;
  args(): string[];
  exit(code: number): never;
  /** Wall clock in epoch milliseconds: read only by shells, never by pure cores. */
  nowMs(): number;
}
