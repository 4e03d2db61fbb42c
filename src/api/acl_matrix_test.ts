// Proves every route and every Connect method is classified by the ACL table and answers 401
// without a token and 403 with a token that has no rights. The list comes from the app's own
// registered routes and the JobService descriptor, so a new route cannot be forgotten.
import { describe, expect, test } from "bun:test";
import { restRoutes, routeNeed } from "../acl/mod.ts";
import { JobService } from "../gen/tock/v1/job_pb.ts";
import { Prng } from "../lib/mod.ts";
import { MemoryAclStore } from "../state/mod.ts";
import { hashSecret } from "./acl_auth.ts";
import { createApp } from "./app.ts";
import type { ApiDeps } from "./deps.ts";
import { connectMethods, connectPathPrefix } from "../acl/mod.ts";

const none = () => {
  throw new Error("not reached: the ACL layer answers first");
};
const deps: ApiDeps = {
  nodeName: "n1",
  version: "test",
  tags: {},
  nowMs: () => 1_000,
  propose: () => Promise.resolve({}),
  getJob: () => undefined,
  allJobs: () => [],
  jobsByName: () => [],
  executionsOf: () => [],
  runningExecutions: () => [],
  executionOutput: () => undefined,
  watchOutput: none,
  checkExecutor: () => undefined,
  nextRun: () => null,
  nextRuns: () => [],
  runJob: none,
  killExecution: none,
  members: () => [],
  leader: () => undefined,
  isLeader: () => true,
  cluster: none,
  activity: none,
  onStateChange: () => {},
  metricsText: () => "",
};

const store = new MemoryAclStore();
const noRights = "no-rights-secret-0123456789abcdef0123456789ab";
store.putPolicy({ name: "empty", description: "", jobs: [], operator: [] });
store.putToken({
  accessor: "acc-none",
  name: "nobody",
  type: "client",
  policies: ["empty", "missing-policy"],
  secret_hash: hashSecret(noRights),
  created_at: 0,
});
const auditLines: string[] = [];
const app = createApp(deps, {
  ui: true,
  acl: { enabled: true, store, log: (l) => auditLines.push(l) },
});

/** A concrete path for a registered pattern: parameters and wildcards filled in. */
const concrete = (path: string) =>
  path.replace(/:[A-Za-z_]+/g, (p) => (p === ":job" ? "team-a" : "x1")).replace(
    /\*$/,
    "index.html",
  );

const registered = app.routes
  .filter((r) => r.method !== "ALL")
  .map((r) => ({ method: r.method, path: r.path }))
  .filter((r, i, all) => all.findIndex((x) => x.method === r.method && x.path === r.path) === i);

describe("ACL route matrix", () => {
  test("every registered REST route is in the ACL table (add new routes to src/acl/routes.ts)", () => {
    const missing = registered.filter((r) =>
      !r.path.startsWith(connectPathPrefix) &&
      !restRoutes.some((x) => x.method === r.method && x.path === r.path)
    );
    expect(missing).toEqual([]);
  });

  test("every JobService method is in the ACL table", () => {
    const names = JobService.methods.map((m) => m.name);
    expect(names.filter((n) => connectMethods[n] === undefined)).toEqual([]);
  });

  for (const r of registered.filter((x) => !x.path.startsWith(connectPathPrefix))) {
    const path = concrete(r.path);
    const need = routeNeed(r.method, path).need;
    test(`${r.method} ${r.path}: ${need.kind === "public" ? "public" : "401 without a token, 403 or allowed with none"}`, async () => {
      const plain = await app.request(path, { method: r.method });
      if (need.kind === "public") {
        expect(plain.status).not.toBe(401);
        return;
      }
      expect({ status: plain.status, body: await plain.json() }).toMatchObject({
        status: 401,
        body: { error: expect.stringContaining("ACL token required") },
      });
      const withToken = await app.request(path, {
        method: r.method,
        headers: { authorization: `Bearer ${noRights}` },
      });
      if (need.kind === "token") {
        expect([401, 403]).not.toContain(withToken.status);
      } else {
        expect({ status: withToken.status, body: await withToken.json() }).toMatchObject({
          status: 403,
          body: { error: expect.stringContaining('token "nobody" (acc-none) lacks') },
        });
      }
    });
  }

  for (const m of JobService.methods) {
    const path = `/${JobService.typeName}/${m.name}`;
    test(`Connect ${m.name}: Unauthenticated without a token, PermissionDenied with none`, async () => {
      const message = {
        name: "team-a",
        job_name: "team-a",
        execution_id: "1",
        job: { name: "team-a" },
      };
      expect(await connectCall(path, m.methodKind, message)).toBe("unauthenticated");
      expect(await connectCall(path, m.methodKind, message, noRights)).toBe("permission_denied");
    });
  }
});

/** Calls a Connect method with JSON (enveloped for streams) and returns the error code or "ok". */
async function connectCall(
  path: string,
  kind: string,
  message: unknown,
  secret?: string,
): Promise<string> {
  const auth: Record<string, string> = secret === undefined
    ? {}
    : { authorization: `Bearer ${secret}` };
  if (kind === "unary") {
    const res = await app.request(path, {
      method: "POST",
      body: JSON.stringify(message),
      headers: { "content-type": "application/json", ...auth },
    });
    return res.ok ? "ok" : (await res.json()).code;
  }
  const json = new TextEncoder().encode(JSON.stringify(message));
  const frame = new Uint8Array(5 + json.length);
  new DataView(frame.buffer).setUint32(1, json.length);
  frame.set(json, 5);
  const res = await app.request(path, {
    method: "POST",
    body: frame,
    headers: { "content-type": "application/connect+json", ...auth },
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  // Walk the frames to the end-of-stream one (flag 0x02), which carries any error.
  for (let at = 0; at + 5 <= bytes.length;) {
    const len = new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4).getUint32(0);
    if (((bytes[at] as number) & 0x02) !== 0) {
      const end = JSON.parse(new TextDecoder().decode(bytes.subarray(at + 5, at + 5 + len)));
      return end.error?.code ?? "ok";
    }
    at += 5 + len;
  }
  return "no end-of-stream frame";
}

describe("fuzzed auth headers", () => {
  test("random Authorization and X-Dkron-Token values get 401 JSON, never a crash or access", async () => {
    const rng = new Prng(4242);
    const pieces = [
      "Bearer ",
      "bearer",
      " ",
      "\t",
      noRights,
      "Basic ",
      "=",
      "%00",
      "ü",
      "\u2028",
      "a".repeat(700),
    ];
    for (let i = 0; i < 400; i++) {
      let value = "";
      const n = 1 + (rng.nextU32() % 5);
      for (let k = 0; k < n; k++) {
        value += rng.nextU32() % 3 === 0
          ? String.fromCharCode(32 + (rng.nextU32() % 95))
          : pieces[rng.nextU32() % pieces.length];
      }
      // A header that happens to carry exactly the valid secret is a valid request, not a fuzz case.
      if (/^\s*Bearer[ \t]+no-rights-secret-0123456789abcdef0123456789ab[ \t]*$/i.test(value)) {
        continue;
      }
      if (value.trim() === noRights) continue;
      const header = rng.nextU32() % 2 === 0 ? "authorization" : "x-dkron-token";
      let headers: Headers;
      try {
        headers = new Headers({ [header]: value });
      } catch {
        continue; // not a legal header value: no HTTP client can send it
      }
      const res = await app.request("/v1/jobs/team-a", { headers });
      const body = await res.json();
      expect({ value, status: res.status, hasError: typeof body.error === "string" }).toEqual({
        value,
        status: 401,
        hasError: true,
      });
    }
  });

  test("a valid secret with a changed character, or sent twice differently, is refused", async () => {
    const flipped = noRights.slice(0, -1) + (noRights.endsWith("b") ? "c" : "b");
    expect((await app.request("/v1", { headers: { authorization: `Bearer ${flipped}` } })).status)
      .toBe(401);
    const both = await app.request("/v1", {
      headers: { authorization: `Bearer ${noRights}`, "x-dkron-token": flipped },
    });
    expect(both.status).toBe(401);
    expect((await both.json()).error).toContain("different tokens");
    expect((await app.request("/v1", { headers: { "x-dkron-token": noRights } })).status).toBe(200);
    expect((await app.request("/v1", { headers: { authorization: `BEARER  ${noRights}` } })).status)
      .toBe(200);
  });
});

describe("browser UI token", () => {
  test("a cross-origin preflight for Authorization passes without a token, as a browser sends it", async () => {
    const res = await app.request("/v1/jobs", {
      method: "OPTIONS",
      headers: {
        origin: "https://ops.example",
        "access-control-request-method": "GET",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain(
      "authorization",
    );
  });

  test("401 and 403 answers carry the CORS headers, so a cross-origin UI can read them", async () => {
    for (const secret of [undefined, noRights]) {
      const res = await app.request("/v1/jobs/team-a", {
        headers: {
          origin: "https://ops.example",
          ...(secret === undefined ? {} : { authorization: `Bearer ${secret}` }),
        },
      });
      expect([res.status, res.headers.get("access-control-allow-origin")]).toEqual([
        secret === undefined ? 401 : 403,
        "*",
      ]);
    }
  });

  test("a UI can tell ACLs are off: token/self answers open without a token", async () => {
    const open = createApp(deps, { ui: true, acl: { enabled: false, store, log: () => {} } });
    const res = await open.request("/v1/acl/token/self");
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 200,
      body: { type: "open", acl_enabled: false },
    });
    const self = await app.request("/v1/acl/token/self", {
      headers: { authorization: `Bearer ${noRights}` },
    });
    expect(await self.json()).toMatchObject({ name: "nobody", type: "client" });
  });

  test("UI assets and the login page load without a token; a 401 carries WWW-Authenticate", async () => {
    expect((await app.request("/ui/")).status).not.toBe(401);
    const res = await app.request("/v1/jobs");
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="tock"');
  });
});
