/**
 * Serves the embedded web UI (ui/, bundled into ui_assets.gen.ts by scripts/build_ui.ts) under
 * /ui/, and Dkron's browser redirect from `/` (reference/dkron.md §1.1, §11). The assets are
 * plain base64 strings in a module, so this works the same under Bun, Deno and the compiled
 * binary, with no files on disk.
 */
import type { Context, Hono } from "hono";
import { limits } from "../lib/mod.ts";
import {
  compressible,
  encodeBytes,
  type Encoding,
  etagMatches,
  negotiateEncoding,
} from "./http_cache.ts";
import { type UiAsset, uiAssets } from "./ui_assets.gen.ts";

/** Hashed names never change content: a year, the longest value caches honour. */
const immutableCacheControl = "public, max-age=31536000, immutable";
/** index.html names the current hashed files: always revalidate (cheap with the ETag). */
const revalidateCacheControl = "no-cache";
/** The page loads only its own files and talks only to its own origin. */
const contentSecurityPolicy =
  "default-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; " +
  "form-action 'none'; frame-ancestors 'none'";

const decoded = new Map<string, Uint8Array<ArrayBuffer>>();

/** The bytes of an asset, decoded from base64 once and then shared. */
function bytesOf(name: string, asset: UiAsset): Uint8Array<ArrayBuffer> {
  let bytes = decoded.get(name);
  if (bytes === undefined) {
    const bin = atob(asset.body);
    bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    decoded.set(name, bytes);
  }
  return bytes;
}

/**
 * Whether an Accept header admits text/html the way Dkron (gin's NegotiateFormat) decides:
 * no header, `*\/*`, `text/*` or `text/html` admit it; `q=0` refuses a range.
 */
export function acceptsHtml(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === "") return true;
  for (const part of accept.split(",")) {
    const [range = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith("q="));
    if (q !== undefined && Number(q.slice(2)) === 0) continue;
    if (range === "*/*" || range === "text/*" || range === "text/html") return true;
  }
  return false;
}

/**
 * Which asset answers a path below /ui/ (`rest` has no leading slash): the file itself; the
 * page for "" and for extension-less paths (client-side routes); for a missing file name, the
 * same name at the top, because the page links its hashed files relatively and may have been
 * served from a deeper fallback path. Undefined means 404.
 */
export function resolveUiAsset(rest: string): string | undefined {
  if (rest === "" || rest.endsWith("/")) return "index.html";
  if (Object.hasOwn(uiAssets, rest)) return rest;
  const last = rest.slice(rest.lastIndexOf("/") + 1);
  if (!last.includes(".")) return "index.html";
  if (last !== rest && Object.hasOwn(uiAssets, last)) return last;
  return undefined;
}

const encoded = new Map<string, Uint8Array<ArrayBuffer>>();

/** An asset compressed once at the best level, then kept (the set of assets is fixed). */
function encodedOf(name: string, asset: UiAsset, encoding: Encoding): Uint8Array<ArrayBuffer> {
  const key = `${encoding}:${name}`;
  let bytes = encoded.get(key);
  if (bytes === undefined) {
    bytes = encodeBytes(bytesOf(name, asset), encoding, true) as Uint8Array<ArrayBuffer>;
    encoded.set(key, bytes);
  }
  return bytes;
}

function serveAsset(c: Context, name: string): Response {
  const asset = uiAssets[name];
  if (asset === undefined) {
    return c.json({ error: `no UI file ${c.req.path}` }, 404);
  }
  const raw = bytesOf(name, asset);
  const encoding = compressible(asset.contentType) && raw.length >= limits.compressBytesMin
    ? negotiateEncoding(c.req.header("accept-encoding"))
    : null;
  // Each encoding is another representation, so it gets its own strong validator.
  const etag = encoding === null ? asset.etag : `${asset.etag.slice(0, -1)}.${encoding}"`;
  const headers: Record<string, string> = {
    "content-type": asset.contentType,
    "cache-control": asset.immutable ? immutableCacheControl : revalidateCacheControl,
    etag,
    vary: "Accept-Encoding",
    "x-content-type-options": "nosniff",
  };
  if (name.endsWith(".html")) headers["content-security-policy"] = contentSecurityPolicy;
  if (etagMatches(c.req.header("if-none-match"), etag)) {
    return new Response(null, { status: 304, headers });
  }
  if (encoding === null) return new Response(raw, { status: 200, headers });
  headers["content-encoding"] = encoding;
  return new Response(encodedOf(name, asset, encoding), { status: 200, headers });
}

/** Mounts `GET /` (303 → /ui/ for browsers, else 404), `/ui` and `/ui/*` on the app. */
export function mountUi(app: Hono): void {
  app.get("/", (c) => {
    if (acceptsHtml(c.req.header("accept"))) {
      return new Response(null, { status: 303, headers: { location: "/ui/" } });
    }
    return c.json({ error: "no route for GET / (the UI is at /ui/ and the API at /v1)" }, 404);
  });
  app.get("/ui", (c) => {
    const query = new URL(c.req.url).search;
    return new Response(null, { status: 301, headers: { location: `/ui/${query}` } });
  });
  app.get("/ui/*", (c) => {
    let rest = c.req.path.slice("/ui/".length);
    try {
      rest = decodeURIComponent(rest);
    } catch {
      return c.json({ error: `malformed path ${c.req.path}` }, 400);
    }
    const name = resolveUiAsset(rest);
    if (name === undefined) return c.json({ error: `no UI file ${c.req.path}` }, 404);
    return serveAsset(c, name);
  });
}
