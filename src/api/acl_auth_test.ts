// Proves token secrets: 256 random bits behind a `tock_` prefix (so none starts with "-", which
// broke `--token SECRET` on the command line about once in 64 tokens), distinct every time, and
// stored as their SHA-256.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { hashSecret, newTokenSecret, presentedSecret } from "./acl_auth.ts";

describe("token secrets", () => {
  test("secrets are tock_ + 43 base64url characters, never a flag-like string, all distinct", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const { secret, accessor } = newTokenSecret();
      expect(secret).toMatch(/^tock_[A-Za-z0-9_-]{43}$/);
      expect(accessor).toMatch(/^[0-9a-f-]{36}$/);
      seen.add(secret);
    }
    expect(seen.size).toBe(2_000);
  });

  test("the stored form is the SHA-256 hex of the secret", () => {
    expect(hashSecret("tock_x")).toBe(createHash("sha256").update("tock_x").digest("hex"));
  });

  test("headers: Bearer (any case), X-Dkron-Token, both equal; malformed ones are named", () => {
    const h = (o: Record<string, string>) => presentedSecret(new Headers(o));
    expect(h({})).toBeUndefined();
    expect(h({ authorization: "bearer tock_a" })).toBe("tock_a");
    expect(h({ "x-dkron-token": "tock_a" })).toBe("tock_a");
    expect(h({ authorization: "Bearer tock_a", "x-dkron-token": "tock_a" })).toBe("tock_a");
    expect(() => h({ authorization: "Basic dXNlcjpwdw==" })).toThrow(
      'malformed Authorization header: expected "Bearer <token>"',
    );
    expect(() => h({ authorization: "Bearer a b" })).toThrow("malformed Authorization header");
    expect(() => h({ authorization: `Bearer ${"x".repeat(2_000)}` })).toThrow("above the limit");
  });
});
