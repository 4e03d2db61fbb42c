/**
 * runtime: the only folder that touches Bun.* or Deno.*. Exposes the Runtime interface and a
 * loader that picks the adapter for the process it runs in (called once, from main.ts).
 */
export type {
  Db,
  FileLock,
  Row,
  Runtime,
  ServeOptions,
  Server,
  ServeTls,
  SignalName,
  SqlValue,
  Statement,
} from "./types.ts";

export { isDiskFull } from "./sqlite_common.ts";

/** True when running under Bun. */
export const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

/** Loads the adapter for the current runtime (dynamic import keeps bun:sqlite off Deno). */
export async function loadRuntime(): Promise<import("./types.ts").Runtime> {
  if (isBun) return (await import("./bun.ts")).bunRuntime;
  return (await import("./deno.ts")).denoRuntime;
}
