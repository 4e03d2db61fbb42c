// Proves mountUi on a bare Hono app: Dkron's `/` redirect rule by Accept header, the embedded
// page and every file it links served with correct content types and cache headers, ETag
// revalidation, the index.html fallback for client routes, and 404s for missing files.
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { acceptsHtml, mountUi, resolveUiAsset } from "./ui.ts";
import { uiAssets } from "./ui_assets.gen.ts";

function app(): Hono {
  const a = new Hono();
  mountUi(a);
  return a;
}

const get = (path: string, headers: Record<string, string> = {}) =>
  app().request(path, { headers });

/** The hashed files index.html links (`src`/`href` of the bundle), as names under /ui/. */
async function linkedFiles(): Promise<string[]> {
  const html = await (await get("/ui/")).text();
  return [...html.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => m[1] as string);
}

describe("GET /", () => {
  test("redirects browsers to /ui/ with 303 (no Accept, */*, text/html, text/*)", async () => {
    for (const accept of [undefined, "*/*", "text/html,application/xhtml+xml;q=0.9", "text/*"]) {
      const res = await get("/", accept === undefined ? {} : { accept });
      expect({ accept, status: res.status }).toEqual({ accept, status: 303 });
      expect(res.headers.get("location")).toBe("/ui/");
    }
  });
  test("answers 404 to clients that do not accept HTML", async () => {
    for (const accept of ["application/json", "text/plain", "text/html;q=0"]) {
      const res = await get("/", { accept });
      expect({ accept, status: res.status }).toEqual({ accept, status: 404 });
      expect(((await res.json()) as { error: string }).error).toContain("/ui/");
    }
  });
});

test("acceptsHtml follows gin's negotiation, refusing only explicit q=0 or other types", () => {
  expect(acceptsHtml(undefined)).toBe(true);
  expect(acceptsHtml("")).toBe(true);
  expect(acceptsHtml("application/json, */*;q=0.1")).toBe(true);
  expect(acceptsHtml("TEXT/HTML")).toBe(true);
  expect(acceptsHtml("application/json")).toBe(false);
  expect(acceptsHtml("*/*;q=0")).toBe(false);
});

describe("/ui/", () => {
  test("/ui redirects to /ui/ keeping the query", async () => {
    const res = await get("/ui?x=1");
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe("/ui/?x=1");
  });

  test("serves the page as HTML that must be revalidated, with a CSP", async () => {
    for (const path of ["/ui/", "/ui/index.html"]) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
      const html = await res.text();
      expect(html).toContain("<title>Tock</title>");
      expect(html).toContain('id="app"');
    }
  });

  test("every file the page links is served, hashed, immutable and correctly typed", async () => {
    const files = await linkedFiles();
    const byExt = new Map(files.map((f) => [f.slice(f.lastIndexOf(".") + 1), f]));
    expect([...byExt.keys()].sort()).toEqual(["css", "js", "svg"]);
    const types: Record<string, string> = {
      css: "text/css; charset=utf-8",
      js: "text/javascript; charset=utf-8",
      svg: "image/svg+xml",
    };
    for (const [ext, file] of byExt) {
      expect(file).toMatch(/-[a-z0-9]{8}\.[a-z]+$/);
      const res = await get(`/ui/${file}`);
      expect({ file, status: res.status }).toEqual({ file, status: 200 });
      expect(res.headers.get("content-type")).toBe(types[ext] as string);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      const body = new Uint8Array(await res.arrayBuffer());
      expect(Buffer.from(body).toString("base64")).toBe(uiAssets[file]?.body as string);
    }
  });

  test("the script bundle is the UI's code, not a placeholder", async () => {
    const js = (await linkedFiles()).find((f) => f.endsWith(".js")) as string;
    const text = await (await get(`/ui/${js}`)).text();
    // Calls through the generated Connect client and the UI's own views are in the first chunk.
    for (const s of ["watchExecution", "listRunningExecutions", "jobs-body", "Running now"]) {
      expect(text).toContain(s);
    }
  });

  test("a matching If-None-Match gets 304 with no body", async () => {
    const first = await get("/ui/");
    const etag = first.headers.get("etag") as string;
    expect(etag).toMatch(/^"[0-9a-f]{20}"$/);
    const again = await get("/ui/", { "if-none-match": `"other", ${etag}` });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect((await get("/ui/", { "if-none-match": '"other"' })).status).toBe(200);
  });

  test("extension-less unknown paths fall back to the page; missing files are 404", async () => {
    const page = await (await get("/ui/")).text();
    const deep = await get("/ui/jobs/job1");
    expect(deep.status).toBe(200);
    expect(await deep.text()).toBe(page);
    const missing = await get("/ui/nope-12345678.js");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toContain("/ui/nope-12345678.js");
    expect((await get("/ui/favicon.ico")).status).toBe(404);
  });

  test("hashed files resolve from a deeper fallback path (relative links)", async () => {
    const css = (await linkedFiles()).find((f) => f.endsWith(".css")) as string;
    const res = await get(`/ui/jobs/${css}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/css; charset=utf-8");
  });

  test("HEAD answers like GET without a body", async () => {
    const res = await app().request("/ui/", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await res.text()).toBe("");
  });
});

test("resolveUiAsset maps paths under /ui/ to asset names", () => {
  expect(resolveUiAsset("")).toBe("index.html");
  expect(resolveUiAsset("jobs/")).toBe("index.html");
  expect(resolveUiAsset("settings")).toBe("index.html");
  expect(resolveUiAsset("index.html")).toBe("index.html");
  expect(resolveUiAsset("missing.png")).toBeUndefined();
  expect(resolveUiAsset("a/b/missing.png")).toBeUndefined();
});
