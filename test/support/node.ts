/** Starts a real in-process Tock node (Bun runtime, real executors and stores) on port 0. */
import { afterAll, beforeAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AgentStartConfig, type RunningAgent, startAgent } from "../../src/cli/mod.ts";
import { defaultNodeIo } from "../../src/node/mod.ts";
import { loadRuntime } from "../../src/runtime/mod.ts";

export type TestNode = RunningAgent;

export async function startTestNode(
  dataDir: string,
  nodeName = "test-node",
  extra: Partial<AgentStartConfig> = {},
): Promise<TestNode> {
  const runtime = await loadRuntime();
  return startAgent(
    {
      nodeName,
      dataDir,
      httpHost: "127.0.0.1",
      httpPort: 0,
      server: true,
      bootstrapExpect: 1,
      tags: { dc: "dc1" },
      version: "test",
      ui: true,
      ...extra,
    },
    defaultNodeIo(runtime),
  );
}

/** A test file's node, valid inside its tests (after the beforeAll hook has run). */
export interface FileNode {
  readonly node: TestNode;
  /** The node's data dir, a fresh temp dir, also free for the tests' own files. */
  readonly dir: string;
}

/**
 * One node for a whole test file: started in a fresh temp dir (named `dirPrefix` and a suffix)
 * before the file's tests, stopped (with `stopMs` when given) and its dir removed after them.
 */
export function testNodeForFile(dirPrefix: string, stopMs?: number): FileNode {
  let node: TestNode | undefined;
  let dir = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), dirPrefix));
    node = await startTestNode(dir);
  });
  afterAll(async () => {
    await node?.stop(stopMs);
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });
  return {
    get node(): TestNode {
      if (node === undefined) throw new Error(`testNodeForFile(${dirPrefix}): no node yet`);
      return node;
    },
    get dir(): string {
      return dir;
    },
  };
}

/**
 * A REST request to a node as the API tests send it: a JSON content type (plus `headers`), a
 * string body sent as written (to send malformed JSON), any other body as JSON.
 */
export function restRequest(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url + path, {
    method,
    headers: { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
}
