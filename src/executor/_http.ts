/**
 * The http executor (Dkron's plugin/http) on node:http/node:https, which run on Bun and Deno
 * and, unlike fetch, accept client certificates, custom CAs and skipping verification.
 *
 * Deliberate differences from Dkron (all stricter or less surprising):
 * - A header's value is everything after its first colon (Dkron keeps only the text up to a
 *   second colon, so "Authorization: Basic a:b" lost ":b").
 * - expectCode is an exact match against the comma list (Dkron's substring test let "1200"
 *   accept 200).
 * - validate() rejects what Dkron only warns about at run time: headers that are not a JSON
 *   array of "Key: Value" strings, a timeout that is not a positive whole number of seconds, an
 *   expectBody that is not a valid regular expression, unreadable TLS files.
 * - expectBody is matched against the kept output (the first outputBytesMax bytes).
 * Kept from Go's client: redirects are followed (up to 10), the timeout covers all of them.
 */
import { readFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import * as http from "node:http";
import * as https from "node:https";
import { limits } from "../lib/mod.ts";
import { failed, ok } from "./_bounded.ts";
import { parseGoBool } from "./_parse.ts";
import {
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
  OutputSink,
} from "./_types.ts";

const knownKeys = new Set([
  "method",
  "url",
  "headers",
  "body",
  "timeout",
  "expectCode",
  "expectBody",
  "debug",
  "tlsNoVerifyPeer",
  "tlsCertificateFile",
  "tlsCertificateKeyFile",
  "tlsRootCAsFile",
]);

function parseHeaders(text: string): Array<[string, string]> {
  if (text === "") return [];
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    throw new Error(`headers ${JSON.stringify(text)} is not a JSON array of "Key: Value" strings`);
  }
  if (!Array.isArray(list) || !list.every((h) => typeof h === "string")) {
    throw new Error(`headers ${JSON.stringify(text)} is not a JSON array of "Key: Value" strings`);
  }
  return (list as string[]).map((h) => {
    const colon = h.indexOf(":");
    if (colon <= 0) throw new Error(`header ${JSON.stringify(h)} has no "Key: Value" form`);
    return [h.slice(0, colon).trim(), h.slice(colon + 1).trim()];
  });
}

function parseTimeoutSeconds(text: string): number {
  if (text === "") return limits.httpTimeoutSecondsDefault;
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new Error(`timeout "${text}" is not a positive whole number of seconds`);
  }
  return Number(text);
}

interface HttpPlan {
  method: string;
  url: URL;
  headers: Array<[string, string]>;
  body: string;
  timeoutS: number;
  expectCodes: number[] | undefined;
  expectBody: RegExp | undefined;
  tls: https.RequestOptions;
}

function plan(config: Record<string, string>, strict: boolean): HttpPlan {
  if (strict) {
    for (const key of Object.keys(config)) {
      if (!knownKeys.has(key)) {
        throw new Error(`http: unknown key "${key}" (known: ${[...knownKeys].join(", ")})`);
      }
    }
  }
  const method = (config.method ?? "").trim().toUpperCase();
  if (method === "") throw new Error("method is empty");
  if (!/^[A-Z]+$/.test(method)) throw new Error(`method "${config.method}" is not an HTTP method`);
  const rawUrl = config.url ?? "";
  if (rawUrl === "") throw new Error("url is empty");
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new Error(`url "${rawUrl}" is not a valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`url "${rawUrl}" must be http:// or https://`);
  }
  const headers = parseHeaders(config.headers ?? "");
  const timeoutS = parseTimeoutSeconds(config.timeout ?? "");
  let expectCodes: number[] | undefined;
  if ((config.expectCode ?? "") !== "") {
    expectCodes = (config.expectCode as string).split(",").map((c) => {
      const t = c.trim();
      if (!/^\d{3}$/.test(t)) {
        throw new Error(`expectCode "${config.expectCode}" is not a list of HTTP codes`);
      }
      return Number(t);
    });
  }
  let expectBody: RegExp | undefined;
  if ((config.expectBody ?? "") !== "") {
    try {
      expectBody = new RegExp(config.expectBody as string);
    } catch (e) {
      throw new Error(
        `expectBody "${config.expectBody}" is not a regular expression: ${(e as Error).message}`,
      );
    }
  }
  const tls: https.RequestOptions = {};
  const noVerify = config.tlsNoVerifyPeer ?? "";
  if (noVerify !== "") {
    const b = parseGoBool(noVerify);
    if (b === undefined) throw new Error(`tlsNoVerifyPeer "${noVerify}" is not true or false`);
    if (b) tls.rejectUnauthorized = false;
  }
  const readPem = (key: string): Buffer | undefined => {
    const path = config[key] ?? "";
    if (path === "") return undefined;
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`${key} "${path}" cannot be read: ${(e as Error).message}`);
    }
  };
  const cert = readPem("tlsCertificateFile");
  const key = readPem("tlsCertificateKeyFile");
  if ((cert === undefined) !== (key === undefined)) {
    throw new Error("tlsCertificateFile and tlsCertificateKeyFile must be given together");
  }
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  const ca = readPem("tlsRootCAsFile");
  if (ca) tls.ca = ca;
  return {
    method,
    url,
    headers,
    body: config.body ?? "",
    timeoutS,
    expectCodes,
    expectBody,
    tls,
  };
}

async function run(req: ExecutionRequest): Promise<ExecutionResult> {
  const sink = new OutputSink(req, (req.config.expectBody ?? "") !== "");
  const fail = (error: string, exitCode: number | null = null): ExecutionResult =>
    failed(sink, error, exitCode);
  if ((req.config.debug ?? "") !== "") sink.note(`Config: ${JSON.stringify(req.config)}\n`);
  let p: HttpPlan;
  try {
    p = plan(req.config, false);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (req.signal.aborted) return fail("http: execution aborted before start");
  const firstHeaders: Record<string, string> = {};
  for (const [k, v] of p.headers) firstHeaders[k] = v;
  const firstBody = p.body === "" ? undefined : Buffer.from(p.body, "utf8");
  return await new Promise<ExecutionResult>((resolve) => {
    let settled = false;
    let current: http.ClientRequest | undefined;
    const settle = (r: ExecutionResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal.removeEventListener("abort", onAbort);
      resolve(r);
    };
    // Like Go's http.Client (Dkron): follow up to 10 redirects; 301/302/303 turn a non-GET/HEAD
    // into a body-less GET, 307/308 repeat the request; credentials stay on the first host.
    const send = (
      url: URL,
      method: string,
      headers: Record<string, string>,
      body: Buffer | undefined,
      hops: number,
    ): void => {
      const lib = url.protocol === "https:" ? https : http;
      const sent = { ...headers };
      const hasLength = Object.keys(sent).some((k) => k.toLowerCase() === "content-length");
      if (body !== undefined && !hasLength) sent["Content-Length"] = String(body.length);
      const request = lib.request(url, {
        method,
        headers: sent,
        agent: false, // no keep-alive, as Dkron
        ...(url.protocol === "https:" ? p.tls : {}),
      }, (res) => {
        const code = res.statusCode ?? 0;
        const location = res.headers.location;
        if ([301, 302, 303, 307, 308].includes(code) && location !== undefined) {
          res.resume();
          if (hops >= limits.httpRedirectsMax) {
            settle(fail(`http: stopped after ${limits.httpRedirectsMax} redirects`, code));
            return;
          }
          let next: URL;
          try {
            next = new URL(location, url);
          } catch {
            settle(fail(`http: redirect to invalid location ${JSON.stringify(location)}`, code));
            return;
          }
          if (next.protocol !== "http:" && next.protocol !== "https:") {
            settle(
              fail(`http: redirect to unsupported location ${JSON.stringify(location)}`, code),
            );
            return;
          }
          const repeat = code === 307 || code === 308;
          const nextMethod = repeat || method === "GET" || method === "HEAD" ? method : "GET";
          const nextHeaders: Record<string, string> = {};
          for (const [k, v] of Object.entries(headers)) {
            const lower = k.toLowerCase();
            if (!repeat && (lower === "content-length" || lower === "content-type")) continue;
            if (
              next.host !== url.host &&
              ["authorization", "cookie", "www-authenticate"].includes(lower)
            ) {
              continue;
            }
            nextHeaders[k] = v;
          }
          send(next, nextMethod, nextHeaders, repeat ? body : undefined, hops + 1);
          return;
        }
        res.on("data", (c: Uint8Array) => sink.write(c));
        res.on("error", (e) => settle(fail(`http: reading the response failed: ${e.message}`)));
        res.on("end", () => {
          if (p.expectCodes !== undefined && !p.expectCodes.includes(code)) {
            settle(fail("received response code does not match the expected code", code));
            return;
          }
          if (p.expectBody !== undefined && !p.expectBody.test(sink.keptText())) {
            settle(fail("received response body did not match the expected body", code));
            return;
          }
          settle(ok(sink, code));
        });
      });
      current = request;
      request.on("error", (e) => settle(fail(`http: ${method} ${url.href} failed: ${e.message}`)));
      request.end(body);
    };
    const timer = setTimeout(() => {
      current?.destroy();
      settle(fail(`http: request timed out after ${p.timeoutS}s`));
    }, p.timeoutS * 1000);
    const onAbort = (): void => {
      current?.destroy();
      settle(fail("http: execution aborted"));
    };
    req.signal.addEventListener("abort", onAbort, { once: true });
    send(p.url, p.method, firstHeaders, firstBody, 0);
  });
}

export const httpExecutor: Executor = {
  name: "http",
  validate(config) {
    try {
      plan(config, true);
      return undefined;
    } catch (e) {
      return `http: ${(e as Error).message}`;
    }
  },
  run,
};
