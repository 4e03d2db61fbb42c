/** The one table from operating-error kinds to HTTP statuses and Connect codes. */
import { Code } from "@connectrpc/connect";
import type { ErrorKind } from "../lib/mod.ts";

const table: Record<ErrorKind, { http: number; connect: Code }> = {
  invalid: { http: 400, connect: Code.InvalidArgument },
  not_found: { http: 404, connect: Code.NotFound },
  conflict: { http: 409, connect: Code.FailedPrecondition },
  paused: { http: 503, connect: Code.Unavailable },
  too_large: { http: 413, connect: Code.ResourceExhausted },
  not_leader: { http: 503, connect: Code.Unavailable },
  unavailable: { http: 503, connect: Code.Unavailable },
  timeout: { http: 504, connect: Code.DeadlineExceeded },
  storage_full: { http: 507, connect: Code.ResourceExhausted },
  overloaded: { http: 429, connect: Code.ResourceExhausted },
  unauthenticated: { http: 401, connect: Code.Unauthenticated },
  forbidden: { http: 403, connect: Code.PermissionDenied },
  internal: { http: 500, connect: Code.Internal },
};

export function httpStatus(kind: ErrorKind): number {
  return table[kind].http;
}

export function connectCode(kind: ErrorKind): Code {
  return table[kind].connect;
}
