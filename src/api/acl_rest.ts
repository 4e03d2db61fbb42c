/**
 * REST for ACL administration (/v1/acl/...) and the audit log (/v1/audit). Secrets are made
 * here, shown once in the create answer, and only their hashes are proposed.
 */
import { readFileSync } from "node:fs";
import type { Context, Hono } from "hono";
import { type AclToken, checkAclName, parsePolicy, publicToken } from "../acl/mod.ts";
import { errorMessage, invalid, limits, notFound, TockError } from "../lib/mod.ts";
import { hashSecret, newTokenSecret } from "./acl_auth.ts";
import { type AclOptions, currentIdentity } from "./acl_guard.ts";
import type { ApiDeps } from "./deps.ts";
import { sendJson } from "./rest.ts";

async function body(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.length > limits.requestBodyBytesMax) {
    throw new TockError(
      "too_large",
      `request body is above the limit ${limits.requestBodyBytesMax}`,
    );
  }
  let doc: unknown;
  try {
    doc = text.trim() === "" ? {} : JSON.parse(text);
  } catch (e) {
    throw invalid(`Unable to parse payload: ${errorMessage(e)}.`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw invalid("request body must be a JSON object");
  }
  return doc as Record<string, unknown>;
}

function requireEnabled(acl: AclOptions): void {
  if (!acl.enabled) {
    throw invalid(
      "ACLs are disabled on this node: start every agent with --acl-enabled (config acl: {enabled: true})",
    );
  }
}

/** The index in the operator's reset file, if there is one (read on every bootstrap request). */
function resetIndex(acl: AclOptions): number | undefined {
  if (acl.bootstrapResetFile === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(acl.bootstrapResetFile, "utf8");
  } catch {
    return undefined; // no file: the normal case
  }
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 1) {
    throw invalid(
      `${acl.bootstrapResetFile} must hold the reset index (a positive integer), got ${
        JSON.stringify(text.trim())
      }`,
    );
  }
  return n;
}

export function mountAclRest(app: Hono, deps: ApiDeps, acl: AclOptions): void {
  const create = async (
    name: string,
    type: AclToken["type"],
    policies: string[],
    bootstrap: boolean,
    resetIndex?: number,
  ) => {
    const { secret, accessor } = newTokenSecret();
    const token: AclToken = {
      accessor,
      name,
      type,
      policies,
      secret_hash: hashSecret(secret),
      created_at: deps.nowMs(),
    };
    await deps.propose(
      bootstrap
        ? { type: "acl.bootstrap", token, ...(resetIndex === undefined ? {} : { resetIndex }) }
        : { type: "acl.token.create", token },
    );
    return { ...publicToken(token), secret };
  };

  app.post("/v1/acl/bootstrap", async (c) => {
    requireEnabled(acl);
    return sendJson(c, 200, await create("bootstrap", "management", [], true, resetIndex(acl)));
  });

  app.get("/v1/acl/token/self", (c) => {
    const id = currentIdentity();
    if (id.kind === "open") return sendJson(c, 200, { type: "open", acl_enabled: false });
    const t = acl.store.getToken(id.accessor);
    if (!t) throw notFound("this token was deleted");
    return sendJson(c, 200, publicToken(t));
  });

  app.get("/v1/acl/tokens", (c) => {
    const list = acl.store.tokens().map(publicToken);
    return sendJson(c, 200, list, { "X-Total-Count": String(list.length) });
  });

  app.post("/v1/acl/tokens", async (c) => {
    requireEnabled(acl);
    const b = await body(c);
    for (const k of Object.keys(b)) {
      if (!["name", "type", "policies"].includes(k)) {
        throw invalid(`token: unknown field "${k}" (known: name, type, policies)`);
      }
    }
    const name = checkAclName("token name", b["name"]);
    const type = b["type"] ?? "client";
    if (type !== "client" && type !== "management") {
      throw invalid(`token type must be "client" or "management", got ${JSON.stringify(type)}`);
    }
    const raw = b["policies"] ?? [];
    if (!Array.isArray(raw)) throw invalid("token policies must be a list of policy names");
    const policies = raw.map((p) => checkAclName("policy name", p));
    if (type === "client") {
      for (const p of policies) {
        if (!acl.store.getPolicy(p)) {
          throw invalid(`token "${name}": policy "${p}" does not exist; apply it first`);
        }
      }
    } else if (policies.length > 0) {
      throw invalid("a management token has every right; give it no policies");
    }
    return sendJson(c, 200, await create(name, type, policies, false));
  });

  app.delete("/v1/acl/tokens/:accessor", async (c) => {
    const accessor = c.req.param("accessor");
    const t = acl.store.getToken(accessor);
    if (!t) throw notFound(`ACL token "${accessor}" not found`);
    await deps.propose({ type: "acl.token.delete", accessor });
    return sendJson(c, 200, publicToken(t));
  });

  app.get("/v1/acl/policies", (c) => {
    const list = acl.store.policies();
    return sendJson(c, 200, list, { "X-Total-Count": String(list.length) });
  });

  app.post("/v1/acl/policies", async (c) => {
    const policy = parsePolicy(await body(c));
    await deps.propose({ type: "acl.policy.upsert", policy });
    return sendJson(c, 200, policy);
  });

  app.get("/v1/acl/policies/:name", (c) => {
    const p = acl.store.getPolicy(c.req.param("name"));
    if (!p) throw notFound(`ACL policy "${c.req.param("name")}" not found`);
    return sendJson(c, 200, p);
  });

  app.delete("/v1/acl/policies/:name", async (c) => {
    const name = c.req.param("name");
    const p = acl.store.getPolicy(name);
    if (!p) throw notFound(`ACL policy "${name}" not found`);
    await deps.propose({ type: "acl.policy.delete", name });
    return sendJson(c, 200, p);
  });

  /** Oldest first after the `after` cursor; X-Next-After is the cursor for the next page. */
  app.get("/v1/audit", (c) => {
    const afterText = c.req.query("after") ?? "0";
    const limitText = c.req.query("limit") ?? "100";
    if (!/^\d{1,15}$/.test(afterText)) {
      throw invalid(`query parameter after must be a non-negative integer, got "${afterText}"`);
    }
    if (
      !/^\d{1,6}$/.test(limitText) || Number(limitText) < 1 ||
      Number(limitText) > limits.auditPageMax
    ) {
      throw invalid(
        `query parameter limit must be an integer from 1 to ${limits.auditPageMax}, got "${limitText}"`,
      );
    }
    const page = acl.store.auditPage(Number(afterText), Number(limitText));
    const next = page.length > 0 ? (page[page.length - 1]?.seq as number) : Number(afterText);
    return sendJson(c, 200, page, { "X-Next-After": String(next) });
  });
}
