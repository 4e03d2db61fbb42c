/**
 * Compression and conditional GET for every HTTP answer: brotli or gzip by Accept-Encoding
 * (node:zlib, which Bun and Deno both provide), and ETag / If-None-Match → 304 on GET, so a
 * client that asks again for unchanged data gets an empty 304 instead of the same bytes.
 * Streams (Connect server streaming, gRPC-web) pass untouched: buffering them would stall
 * live output.
 */
import { createHash } from "node:crypto";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import type { Context, MiddlewareHandler } from "hono";
import { limits } from "../lib/mod.ts";

export type Encoding = "br" | "gzip";

/** The best encoding an Accept-Encoding header admits (brotli first), or null for none. */
export function negotiateEncoding(accept: string | undefined): Encoding | null {
  if (accept === undefined) return null;
  const admitted = new Set<string>();
  for (const part of accept.split(",")) {
    const [name = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    if (params.some((p) => /^q=0(\.0*)?$/.test(p))) continue;
    admitted.add(name);
  }
  if (admitted.has("br")) return "br";
  if (admitted.has("gzip") || admitted.has("*")) return "gzip";
  return null;
}

/**
 * Compressed bytes. `best` is for content compressed once and kept (UI assets): brotli's top
 * quality; dynamic answers use a fast level (compression must not cost more than it saves).
 */
export function encodeBytes(bytes: Uint8Array, encoding: Encoding, best: boolean): Uint8Array {
  if (encoding === "br") {
    return brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: best ? 11 : 4,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    });
  }
  return gzipSync(bytes, { level: best ? 9 : 6 });
}

/** Whether a content type is worth compressing (text, JSON, JS, SVG, protobuf). */
export function compressible(contentType: string | null): boolean {
  if (contentType === null) return false;
  const t = contentType.toLowerCase();
  if (isStream(t)) return false;
  return t.startsWith("text/") || t.includes("json") || t.includes("javascript") ||
    t.includes("svg") || t.startsWith("application/proto");
}

/** Connect streaming and gRPC-web bodies are framed streams: never buffer them. */
function isStream(contentType: string): boolean {
  return contentType.startsWith("application/connect+") ||
    contentType.startsWith("application/grpc") || contentType.startsWith("text/event-stream");
}

/** Whether an If-None-Match header names `etag` (weak comparison, as RFC 9110 §13.1.2 asks). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const bare = (t: string) => t.trim().replace(/^W\//, "");
  const want = bare(etag);
  return ifNoneMatch.split(",").some((t) => t.trim() === "*" || bare(t) === want);
}

/**
 * The middleware. Answers the UI serves itself (already tagged and compressed) pass through;
 * every other buffered answer is tagged on GET (a weak ETag over the uncompressed bytes) and
 * compressed when large enough and the client admits an encoding.
 */
export function httpCache(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const res = c.res;
    if (res.body === null || res.headers.has("content-encoding")) return;
    const type = res.headers.get("content-type");
    if (type !== null && isStream(type.toLowerCase())) return;
    const isGet = c.req.method === "GET" || c.req.method === "HEAD";
    const tag = isGet && res.status === 200 && !res.headers.has("etag");
    const encoding = compressible(type) ? negotiateEncoding(c.req.header("accept-encoding")) : null;
    if (!tag && encoding === null) return;
    const bytes = new Uint8Array(await res.arrayBuffer());
    const headers = new Headers(res.headers);
    if (tag) {
      const etag = `W/"${createHash("sha1").update(bytes).digest("base64url").slice(0, 22)}"`;
      headers.set("etag", etag);
      // Revalidate every time: the answer is live state, but unchanged state costs a 304.
      if (!headers.has("cache-control")) headers.set("cache-control", "no-cache");
      if (etagMatches(c.req.header("if-none-match"), etag)) {
        headers.delete("content-length");
        headers.delete("content-type");
        replace(c, new Response(null, { status: 304, headers }));
        return;
      }
    }
    let body: Uint8Array = bytes;
    if (encoding !== null && bytes.length >= limits.compressBytesMin) {
      body = encodeBytes(bytes, encoding, false);
      headers.set("content-encoding", encoding);
      headers.delete("content-length");
    }
    if (compressible(type)) headers.append("vary", "Accept-Encoding");
    replace(
      c,
      new Response(body as Uint8Array<ArrayBuffer>, {
        status: res.status,
        statusText: res.statusText,
        headers,
      }),
    );
  };
}

/** Sets the answer outright: Hono's `c.res =` would copy the old headers (length) back on. */
function replace(c: Context, res: Response): void {
  c.res = undefined;
  c.res = res;
}
