/** Reading request bodies under a byte limit, the same way for REST and Connect. */
import { TockError } from "../lib/mod.ts";

/**
 * The whole body of `req` as bytes. Counts bytes (never UTF-16 units) and stops reading as soon
 * as `max` is passed, whether the length was declared (Content-Length) or not (chunked).
 */
export async function readBodyBytes(
  req: Request,
  max: number,
  what = "request body",
): Promise<Uint8Array<ArrayBuffer>> {
  const tooLarge = (n: number) =>
    new TockError("too_large", `${what} is ${n} bytes, above the limit ${max}`);
  const declared = Number(req.headers.get("content-length") ?? 0);
  if (declared > max) throw tooLarge(declared);
  if (req.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(bytes);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(bytes);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return all;
}
