/**
 * Operating errors: expected failures that carry the values involved. The api folder maps each
 * kind to an HTTP status and a Connect code in one table.
 */
export type ErrorKind =
  | "invalid" // bad input from a client
  | "not_found" // the named thing does not exist
  | "conflict" // refused because of current state (e.g. job has children)
  | "paused" // new submissions are paused on this node
  | "too_large" // over a limit in limits.ts
  | "not_leader" // this node cannot serve the write; carries a leader hint when known
  | "unavailable" // shutting down, or no quorum
  | "timeout" // deadline passed before the command applied
  | "storage_full" // the disk holding the data dir is full; nothing was written
  | "overloaded" // too much work is queued; retry later (back-pressure, not a client error)
  | "unauthenticated" // ACLs are on and the request has no valid token
  | "forbidden" // the token lacks the capability the request needs
  | "internal"; // a failure that is not the caller's fault

/** An expected, typed failure. `message` is complete and names the problem and the values. */
export class TockError extends Error {
  override name = "TockError";
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly leaderHint?: string,
  ) {
    super(message);
  }
}

export const invalid = (message: string): TockError => new TockError("invalid", message);
export const notFound = (message: string): TockError => new TockError("not_found", message);
export const conflict = (message: string): TockError => new TockError("conflict", message);

export function isTockError(e: unknown): e is TockError {
  return e instanceof TockError;
}

/** The message of any thrown value, for logs and error bodies. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
