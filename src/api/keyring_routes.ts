/**
 * REST for cluster-wide gossip key rotation (Serf/Consul's keyring operator API, Dkron-style
 * JSON): GET /v1/keyring lists, POST installs, PUT makes primary, DELETE removes; the body of
 * the last three is {"key": "<base64>"} (Consul's "Key" is accepted too). Every answer is the
 * cluster aggregate: members, acks, errors by node, missing members, key → holders.
 * Status: 200 when every member acknowledged; 409 when a member refused (the body says who and
 * why); 504 when a member did not answer in time; 503 when gossip encryption is not set up here.
 * Not registered in the app yet: the node passes its KeyringOps (src/net) as the port.
 */
import { errorMessage, isTockError, limits, TockError } from "../lib/mod.ts";
import type { KeyringResult } from "../net/mod.ts";
import { readBodyBytes } from "./body.ts";
import { httpStatus } from "./errors.ts";

/** What the routes need: src/net's KeyringOps satisfies it. */
export interface KeyringPort {
  list(): Promise<KeyringResult>;
  install(key: string): Promise<KeyringResult>;
  use(key: string): Promise<KeyringResult>;
  remove(key: string): Promise<KeyringResult>;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

async function readKey(req: Request): Promise<string> {
  const bytes = await readBodyBytes(req, limits.keyringBodyBytesMax, "keyring request body");
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new TockError("invalid", 'keyring request body must be JSON {"key": "<base64>"}');
  }
  const o = body as Record<string, unknown> | null;
  const key = o !== null && typeof o === "object" ? (o["key"] ?? o["Key"]) : undefined;
  if (typeof key !== "string" || key.trim() === "") {
    throw new TockError("invalid", 'keyring request body needs "key": a base64 gossip key');
  }
  return key;
}

/** A one-line summary of what went wrong, or undefined when every member acknowledged. */
function problem(r: KeyringResult): string | undefined {
  const errs = Object.entries(r.errors);
  if (errs.length > 0) {
    return `${errs.length} of ${r.members} members refused ${r.op}: ${
      errs.map(([n, why]) => `${n}: ${why}`).join("; ")
    }`;
  }
  if (r.missing.length > 0) {
    return `${r.missing.length} of ${r.members} members did not answer ${r.op} in time: ${
      r.missing.join(", ")
    }`;
  }
  return undefined;
}

/**
 * Handles one /v1/keyring request. `ops` undefined means this node runs without gossip (or
 * without a keyring) and answers 503 saying so.
 */
export async function handleKeyringRequest(
  req: Request,
  ops: KeyringPort | undefined,
): Promise<Response> {
  try {
    if (ops === undefined) {
      throw new TockError(
        "unavailable",
        "gossip keyring operations are not available on this node (start it with --encrypt)",
      );
    }
    let r: KeyringResult;
    switch (req.method) {
      case "GET":
        r = await ops.list();
        break;
      case "POST":
        r = await ops.install(await readKey(req));
        break;
      case "PUT":
        r = await ops.use(await readKey(req));
        break;
      case "DELETE":
        r = await ops.remove(await readKey(req));
        break;
      default:
        return json(405, { error: `method ${req.method} not allowed on /v1/keyring` });
    }
    const why = problem(r);
    if (why === undefined) return json(200, r);
    return json(Object.keys(r.errors).length > 0 ? 409 : 504, { ...r, error: why });
  } catch (e) {
    if (isTockError(e)) return json(httpStatus(e.kind), { error: e.message });
    return json(500, { error: `keyring operation failed: ${errorMessage(e)}` });
  }
}
