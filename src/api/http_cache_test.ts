// Proves the HTTP cache layer: brotli/gzip by Accept-Encoding above the size floor, a weak
// ETag on GET answers with 304 for a matching If-None-Match, streams left untouched, and the
// embedded UI served compressed with a validator per encoding.
import { expect, test } from "bun:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { Hono } from "hono";
import { etagMatches, httpCache, negotiateEncoding } from "./http_cache.ts";
import { mountUi } from "./ui.ts";

const big = JSON.stringify({
  items: Array.from({ length: 500 }, (_, i) => ({ i, name: `job-${i}` })),
});

function app(): Hono {
  const a = new Hono();
  a.use("*", httpCache());
  a.get("/big", (c) => c.body(big, 200, { "content-type": "application/json" }));
  a.get("/small", (c) => c.json({ ok: true }));
  a.post("/stream", (c) => c.body("frame", 200, { "content-type": "application/connect+json" }));
  mountUi(a);
  return a;
}

test("negotiateEncoding prefers brotli, then gzip, and honours q=0", () => {
  expect(negotiateEncoding("gzip, deflate, br")).toBe("br");
  expect(negotiateEncoding("gzip")).toBe("gzip");
  expect(negotiateEncoding("br;q=0, gzip")).toBe("gzip");
  expect(negotiateEncoding("identity")).toBe(null);
  expect(negotiateEncoding(undefined)).toBe(null);
});

test("a large JSON answer is brotli- or gzip-compressed and decodes to the same bytes", async () => {
  const br = await app().request("/big", { headers: { "accept-encoding": "br" } });
  expect(br.headers.get("content-encoding")).toBe("br");
  expect(br.headers.get("vary")).toContain("Accept-Encoding");
  const brBytes = new Uint8Array(await br.arrayBuffer());
  expect(brBytes.length).toBeLessThan(big.length / 3);
  expect(new TextDecoder().decode(brotliDecompressSync(brBytes))).toBe(big);
  const gz = await app().request("/big", { headers: { "accept-encoding": "gzip" } });
  expect(gz.headers.get("content-encoding")).toBe("gzip");
  expect(new TextDecoder().decode(gunzipSync(new Uint8Array(await gz.arrayBuffer())))).toBe(big);
  const plain = await app().request("/big");
  expect(plain.headers.get("content-encoding")).toBe(null);
  expect(await plain.text()).toBe(big);
});

test("a GET answer carries an ETag; asking again with it gets an empty 304", async () => {
  const first = await app().request("/big");
  const etag = first.headers.get("etag");
  expect(etag).toMatch(/^W\/".+"$/);
  expect(first.headers.get("cache-control")).toBe("no-cache");
  const again = await app().request("/big", { headers: { "if-none-match": etag as string } });
  expect(again.status).toBe(304);
  expect(await again.text()).toBe("");
  const small = await app().request("/small", { headers: { "accept-encoding": "br" } });
  expect(small.headers.get("content-encoding")).toBe(null); // below the floor: not worth it
  expect(small.headers.get("etag")).not.toBe(etag);
});

test("streams pass untouched (no buffering, no encoding)", async () => {
  const res = await app().request("/stream", {
    method: "POST",
    headers: { "accept-encoding": "br" },
  });
  expect(res.headers.get("content-encoding")).toBe(null);
  expect(res.headers.get("etag")).toBe(null);
  expect(await res.text()).toBe("frame");
});

test("UI assets are served compressed with a validator per encoding that revalidates", async () => {
  const html = await (await app().request("/ui/")).text();
  const script = /src="\.\/([^"]+\.js)"/.exec(html)?.[1] as string;
  const br = await app().request(`/ui/${script}`, { headers: { "accept-encoding": "br" } });
  expect(br.headers.get("content-encoding")).toBe("br");
  const etag = br.headers.get("etag") as string;
  expect(etag).toMatch(/\.br"$/);
  const plain = await app().request(`/ui/${script}`);
  expect(new TextDecoder().decode(brotliDecompressSync(new Uint8Array(await br.arrayBuffer()))))
    .toBe(await plain.text());
  const again = await app().request(`/ui/${script}`, {
    headers: { "accept-encoding": "br", "if-none-match": etag },
  });
  expect(again.status).toBe(304);
});

test("etagMatches compares weakly and understands lists and *", () => {
  expect(etagMatches('W/"a"', '"a"')).toBe(true);
  expect(etagMatches('"b", "a"', 'W/"a"')).toBe(true);
  expect(etagMatches("*", '"a"')).toBe(true);
  expect(etagMatches('"b"', '"a"')).toBe(false);
  expect(etagMatches(undefined, '"a"')).toBe(false);
});
