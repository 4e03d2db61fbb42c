/**
 * `tock acl bootstrap | token create|list|delete | policy apply|list|delete` over the REST API.
 * Secrets are printed once, at creation; lists never show them.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { invalid } from "../lib/mod.ts";
import { call, type ClientIo } from "./client.ts";

type J = Record<string, unknown>;

function printToken(io: ClientIo, t: J): void {
  io.out(`Accessor ID  = ${t["accessor"]}`);
  if (t["secret"] !== undefined) io.out(`Secret ID    = ${t["secret"]}`);
  io.out(`Name         = ${t["name"]}`);
  io.out(`Type         = ${t["type"]}`);
  io.out(`Policies     = ${((t["policies"] as string[] | undefined) ?? []).join(", ") || "n/a"}`);
  if (t["secret"] !== undefined) {
    io.out("The secret is shown only now; Tock keeps only its SHA-256.");
  }
}

function readDoc(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw invalid(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw invalid(
      `${file} is not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${(e as Error).message}`,
    );
  }
}

export async function aclCommand(io: ClientIo, args: string[]): Promise<void> {
  const [area, sub, ...rest] = args;
  if (area === "bootstrap") {
    const { data } = await call(io, "POST", "/v1/acl/bootstrap");
    printToken(io, data as J);
    return;
  }
  if (area === "token") {
    switch (sub) {
      case "create": {
        const { values } = parseArgs({
          args: rest,
          options: {
            name: { type: "string", short: "n" },
            type: { type: "string", short: "t", default: "client" },
            policy: { type: "string", short: "p", multiple: true },
          },
        });
        if (values.name === undefined) throw invalid("tock acl token create: missing --name");
        const { data } = await call(io, "POST", "/v1/acl/tokens", {
          name: values.name,
          type: values.type,
          policies: values.policy ?? [],
        });
        printToken(io, data as J);
        return;
      }
      case "list":
      case "ls": {
        const { data } = await call(io, "GET", "/v1/acl/tokens");
        for (const t of data as J[]) {
          io.out(
            `${t["accessor"]}  ${t["type"]}  ${t["name"]}  ${
              (t["policies"] as string[]).join(",")
            }`,
          );
        }
        return;
      }
      case "self": {
        const { data } = await call(io, "GET", "/v1/acl/token/self");
        printToken(io, data as J);
        return;
      }
      case "delete": {
        const accessor = rest[0];
        if (!accessor) throw invalid("tock acl token delete: missing ACCESSOR");
        await call(io, "DELETE", `/v1/acl/tokens/${encodeURIComponent(accessor)}`);
        io.out(`token ${accessor} deleted`);
        return;
      }
      default:
        throw invalid(
          `tock acl token: unknown subcommand "${sub ?? ""}"; use create, list, self, delete`,
        );
    }
  }
  if (area === "policy") {
    switch (sub) {
      case "apply": {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: {
            name: { type: "string", short: "n" },
            "rules-file": { type: "string", short: "r" },
          },
        });
        const file = values["rules-file"] ?? positionals[0];
        if (file === undefined) throw invalid("tock acl policy apply: missing --rules-file FILE");
        const doc = readDoc(file);
        const body = doc !== null && typeof doc === "object" && values.name !== undefined
          ? { ...(doc as J), name: values.name }
          : doc;
        const { data } = await call(io, "POST", "/v1/acl/policies", body);
        io.out(`policy "${(data as J)["name"]}" applied`);
        return;
      }
      case "list":
      case "ls": {
        const { data } = await call(io, "GET", "/v1/acl/policies");
        for (const p of data as J[]) io.out(`${p["name"]}  ${p["description"]}`);
        return;
      }
      case "info":
      case "get": {
        const name = rest[0];
        if (!name) throw invalid("tock acl policy info: missing NAME");
        const { data } = await call(io, "GET", `/v1/acl/policies/${encodeURIComponent(name)}`);
        io.out(JSON.stringify(data, null, 2));
        return;
      }
      case "delete": {
        const name = rest[0];
        if (!name) throw invalid("tock acl policy delete: missing NAME");
        await call(io, "DELETE", `/v1/acl/policies/${encodeURIComponent(name)}`);
        io.out(`policy "${name}" deleted`);
        return;
      }
      default:
        throw invalid(
          `tock acl policy: unknown subcommand "${sub ?? ""}"; use apply, list, info, delete`,
        );
    }
  }
  throw invalid(`tock acl: unknown subcommand "${area ?? ""}"; use bootstrap, token, policy`);
}

/** `tock audit [--after SEQ] [--limit N]`: one JSON line per entry, oldest first. */
export async function auditCommand(io: ClientIo, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { after: { type: "string", default: "0" }, limit: { type: "string", default: "100" } },
  });
  const { data } = await call(
    io,
    "GET",
    `/v1/audit?after=${encodeURIComponent(values.after)}&limit=${encodeURIComponent(values.limit)}`,
  );
  for (const e of data as J[]) io.out(JSON.stringify(e));
}
