/** Starts a real in-process Tock node (Bun runtime, real executors and stores) on port 0. */
import { defaultNodeIo, type NodeConfig, type RunningNode, startNode } from "../../src/node/mod.ts";
import { loadRuntime } from "../../src/runtime/mod.ts";

export type TestNode = RunningNode;

export async function startTestNode(
  dataDir: string,
  nodeName = "test-node",
  extra: Partial<NodeConfig> = {},
): Promise<TestNode> {
  const runtime = await loadRuntime();
  return startNode(
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
