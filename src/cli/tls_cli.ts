/**
 * `tock tls ca create` and `tock tls cert create --server|--client` (Nomad's names): files are
 * written with mode 0600 for keys and never overwritten.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { invalid } from "../lib/mod.ts";

export async function tlsCommand(
  out: (line: string) => void,
  nowMs: number,
  args: string[],
): Promise<void> {
  const [area, sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      dir: { type: "string", default: "." },
      days: { type: "string" },
      "common-name": { type: "string" },
      ca: { type: "string", default: "tock-agent-ca.pem" },
      key: { type: "string", default: "tock-agent-ca-key.pem" },
      server: { type: "boolean" },
      client: { type: "boolean" },
      "additional-dnsname": { type: "string", multiple: true },
      "additional-ipaddress": { type: "string", multiple: true },
    },
  });
  const days = Number(values.days ?? (area === "ca" ? "1825" : "365"));
  if (!Number.isInteger(days) || days < 1 || days > 36500) {
    throw invalid(`--days must be an integer from 1 to 36500, got "${values.days}"`);
  }
  // Loaded here so agents never load the X.509 library; the Reflect polyfill it needs is loaded
  // first and on its own, so no bundling order can evaluate the library before it.
  await import("reflect-metadata");
  const { createCa, createLeaf, validityDays } = await import("./tls_certs.ts");
  const write = (name: string, text: string, mode: number) => {
    const p = join(values.dir, name);
    if (existsSync(p)) throw invalid(`${p} already exists; remove it or pick another --dir`);
    writeFileSync(p, text, { mode });
    out(`==> Wrote ${p}`);
  };
  if (area === "ca" && sub === "create") {
    const ca = await createCa(values["common-name"] ?? "Tock Agent CA", validityDays(nowMs, days));
    write("tock-agent-ca.pem", ca.cert, 0o644);
    write("tock-agent-ca-key.pem", ca.key, 0o600);
    return;
  }
  if (area === "cert" && sub === "create") {
    if (values.server === values.client) {
      throw invalid("tock tls cert create: pass exactly one of --server or --client");
    }
    const read = (what: string, p: string) => {
      try {
        return readFileSync(p, "utf8");
      } catch (e) {
        throw invalid(
          `cannot read the CA ${what} ${p}: ${(e as Error).message} (run tock tls ca create first)`,
        );
      }
    };
    const ca = { cert: read("certificate", values.ca), key: read("key", values.key) };
    const kind = values.server ? "server" : "client";
    const pem = await createLeaf(ca, {
      kind,
      commonName: values["common-name"] ?? `${kind}.tock`,
      dnsNames: [
        ...(kind === "server" ? ["server.tock", "localhost"] : []),
        ...(values["additional-dnsname"] ?? []),
      ],
      ipAddresses: [
        ...(kind === "server" ? ["127.0.0.1"] : []),
        ...(values["additional-ipaddress"] ?? []),
      ],
      validity: validityDays(nowMs, days),
    });
    // Several servers share one directory: number the files like Nomad (-0, -1, ...).
    let n = 0;
    while (existsSync(join(values.dir, `tock-${kind}-${n}.pem`))) n++;
    write(`tock-${kind}-${n}.pem`, pem.cert, 0o644);
    write(`tock-${kind}-${n}-key.pem`, pem.key, 0o600);
    return;
  }
  throw invalid("tock tls: use `tls ca create` or `tls cert create --server|--client`");
}
