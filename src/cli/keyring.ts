/**
 * `tock keyring list | install KEY | use KEY | remove KEY`: cluster-wide gossip key rotation
 * through the agent's /v1/keyring (GET / POST / PUT / DELETE, body {"key": KEY}). Prints how
 * many members acknowledged, and which refused or did not answer and why; exits non-zero
 * (throws) unless every member acknowledged. Not routed in cli.ts yet (the coordinator wires it).
 */
import { invalid } from "../lib/mod.ts";
import type { ClientIo } from "./client.ts";
import { send } from "./http_client.ts";

const verbs: Record<string, { method: string; done: string }> = {
  list: { method: "GET", done: "Listed keys on" },
  install: { method: "POST", done: "Installed the key on" },
  use: { method: "PUT", done: "Made the key primary on" },
  remove: { method: "DELETE", done: "Removed the key from" },
};

export const keyringUsage = "tock keyring list | install KEY | use KEY | remove KEY";

interface Result {
  members?: number;
  acks?: number;
  errors?: Record<string, string>;
  missing?: string[];
  keys?: Record<string, number>;
  primaryKeys?: Record<string, number>;
  error?: string;
}

export async function keyringCommand(io: ClientIo, args: string[]): Promise<void> {
  const [verb, key, ...extra] = args;
  const v = verb === undefined ? undefined : verbs[verb];
  if (v === undefined) throw invalid(`usage: ${keyringUsage}`);
  if (verb === "list" ? key !== undefined : key === undefined || extra.length > 0) {
    throw invalid(`usage: ${keyringUsage}`);
  }
  const res = await send(
    io,
    v.method,
    "/v1/keyring",
    key === undefined ? undefined : JSON.stringify({ key }),
  );
  let r: Result;
  try {
    r = JSON.parse(res.text) as Result;
  } catch {
    throw invalid(`${v.method} /v1/keyring: ${res.status} ${res.text}`);
  }
  if (r.members === undefined) {
    throw invalid(`${v.method} /v1/keyring: ${res.status} ${r.error ?? res.text}`);
  }
  io.out(`${v.done} ${r.acks ?? 0} of ${r.members} members`);
  for (const [node, why] of Object.entries(r.errors ?? {})) io.out(`  ${node}: ${why}`);
  for (const node of r.missing ?? []) io.out(`  ${node}: did not answer in time`);
  if (verb === "list") {
    for (const [k, n] of Object.entries(r.keys ?? {})) {
      const primary = r.primaryKeys?.[k] ?? 0;
      io.out(`${k}  held by ${n}/${r.members}${primary > 0 ? `  primary on ${primary}` : ""}`);
    }
  }
  if (res.status >= 400) throw invalid(r.error ?? `${v.method} /v1/keyring: ${res.status}`);
}
