/**
 * Token secrets and identities: a secret is 32 random bytes (base64url), stored only as its
 * SHA-256; a request's token comes from `Authorization: Bearer` or Dkron Pro's `X-Dkron-Token`.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { AclToken, Identity, Policy } from "../acl/mod.ts";
import { limits, TockError } from "../lib/mod.ts";
import type { AclStore } from "../state/mod.ts";

/**
 * A fresh high-entropy secret (256 bits) and its accessor. The `tock_` prefix lets secret
 * scanners find leaked tokens, and keeps a secret from starting with "-" (which a command line
 * would take for a flag: `--token -x...`).
 */
export function newTokenSecret(): { secret: string; accessor: string } {
  return { secret: `tock_${randomBytes(32).toString("base64url")}`, accessor: randomUUID() };
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** The token a request presents, or undefined; throws unauthenticated for a malformed header. */
export function presentedSecret(headers: Headers): string | undefined {
  const auth = headers.get("authorization");
  const dkron = headers.get("x-dkron-token");
  for (const v of [auth, dkron]) {
    if (v !== null && v.length > limits.authHeaderBytesMax) {
      throw new TockError(
        "unauthenticated",
        `authorization header is ${v.length} bytes, above the limit ${limits.authHeaderBytesMax}`,
      );
    }
  }
  let bearer: string | undefined;
  if (auth !== null && auth.trim() !== "") {
    const m = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(auth);
    if (!m) {
      throw new TockError(
        "unauthenticated",
        'malformed Authorization header: expected "Bearer <token>"',
      );
    }
    bearer = m[1] as string;
  }
  const other = dkron === null || dkron.trim() === "" ? undefined : dkron.trim();
  if (bearer !== undefined && other !== undefined && bearer !== other) {
    throw new TockError(
      "unauthenticated",
      "Authorization and X-Dkron-Token carry different tokens; send one",
    );
  }
  return bearer ?? other;
}

/** Resolves a secret to an identity, or throws unauthenticated naming why. */
export function identify(store: AclStore, secret: string | undefined): Identity {
  if (secret === undefined) {
    throw new TockError(
      "unauthenticated",
      "ACL token required: send Authorization: Bearer <token> (CLI: --token or TOCK_TOKEN)",
    );
  }
  const hash = hashSecret(secret);
  const token = store.tokenByHash(hash);
  // The lookup is by an index on the hash; the compare below keeps the final check constant-time.
  if (
    token === undefined ||
    !timingSafeEqual(Buffer.from(token.secret_hash, "hex"), Buffer.from(hash, "hex"))
  ) {
    throw new TockError("unauthenticated", "ACL token not found (deleted, or never issued)");
  }
  return identityOf(store, token);
}

export function identityOf(store: AclStore, token: AclToken): Identity {
  if (token.type === "management") {
    return { kind: "management", accessor: token.accessor, name: token.name };
  }
  const policies = token.policies.map((p) => store.getPolicy(p)).filter((p): p is Policy =>
    p !== undefined
  );
  return { kind: "client", accessor: token.accessor, name: token.name, policies };
}
