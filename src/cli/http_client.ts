/**
 * How the CLI reaches an agent: fetch for http://, node:https for https:// (it takes a custom CA
 * and a client certificate the same way on Bun and Deno). Sends the ACL token as a Bearer header.
 */
import { readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { invalid } from "../lib/mod.ts";

export interface Connection {
  address: string;
  /** ACL secret (--token / TOCK_TOKEN). */
  token?: string | undefined;
  /** PEM paths: CA that signed the agent's certificate, and a client certificate and key. */
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

export interface Reply {
  status: number;
  text: string;
  header(name: string): string | undefined;
}

/** Resolves connection flags against the environment (TOCK_ADDR, TOCK_TOKEN, TOCK_CACERT, ...). */
export function connectionFrom(
  values: {
    address?: string | undefined;
    token?: string | undefined;
    "ca-file"?: string | undefined;
    "cert-file"?: string | undefined;
    "key-file"?: string | undefined;
  },
  env: (name: string) => string | undefined,
): Connection {
  return {
    address: (values.address ?? env("TOCK_ADDR") ?? "http://127.0.0.1:8080").replace(/\/$/, ""),
    token: values.token ?? env("TOCK_TOKEN"),
    caFile: values["ca-file"] ?? env("TOCK_CACERT"),
    certFile: values["cert-file"] ?? env("TOCK_CLIENT_CERT"),
    keyFile: values["key-file"] ?? env("TOCK_CLIENT_KEY"),
  };
}

const readPem = (what: string, p: string | undefined) => {
  if (p === undefined) return undefined;
  try {
    return readFileSync(p, "utf8");
  } catch (e) {
    throw invalid(`cannot read ${what} ${p}: ${(e as Error).message}`);
  }
};

export async function send(
  conn: Connection,
  method: string,
  path: string,
  body?: string,
  contentType = "application/json",
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = contentType;
  if (conn.token !== undefined && conn.token !== "") {
    headers["authorization"] = `Bearer ${conn.token}`;
  }
  const url = `${conn.address}${path}`;
  const unreachable = (e: unknown) =>
    invalid(
      `cannot reach Tock at ${conn.address}: ${(e as Error).message} (set --address or TOCK_ADDR)`,
    );
  if (!url.startsWith("https://")) {
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
    } catch (e) {
      throw unreachable(e);
    }
    const text = await res.text();
    return { status: res.status, text, header: (n) => res.headers.get(n) ?? undefined };
  }
  const ca = readPem("--ca-file", conn.caFile);
  const cert = readPem("--cert-file", conn.certFile);
  const key = readPem("--key-file", conn.keyFile);
  return await new Promise<Reply>((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method,
        headers,
        ...(ca === undefined ? {} : { ca }),
        ...(cert === undefined ? {} : { cert }),
        ...(key === undefined ? {} : { key }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => reject(unreachable(e)));
        res.on("end", () => {
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8"),
            header: (n) => {
              const v = res.headers[n.toLowerCase()];
              return Array.isArray(v) ? v.join(", ") : v;
            },
          });
        });
      },
    );
    req.on("error", (e) => reject(unreachable(e)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * A fetch that trusts the connection's CA and presents its client certificate, for Connect
 * clients (`job run --wait`). Bun's fetch takes these as its `tls` init field; other runtimes
 * ignore the field, so an untrusted certificate then fails with the runtime's own message.
 */
export function connectionFetch(conn: Connection): typeof fetch {
  const ca = readPem("--ca-file", conn.caFile);
  const cert = readPem("--cert-file", conn.certFile);
  const key = readPem("--key-file", conn.keyFile);
  if (ca === undefined && cert === undefined && key === undefined) return fetch;
  const tls = {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
  };
  return ((input: RequestInfo | URL, init?: RequestInit) =>
    fetch(input, { ...init, tls } as RequestInit)) as typeof fetch;
}
