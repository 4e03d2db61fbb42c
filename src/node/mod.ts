/**
 * node: one Tock server process — state.db behind Raft, the propose() door (with forwarding to
 * the leader), the RPC port, the per-term scheduler with fencing, and the runner. The HTTP app is
 * built from `RunningNode.api` by the composition root in cli/.
 */
export { type Applied, currentOf, Door, type Proposer } from "./door.ts";
export { Fence, Fenced, Leadership, type LeaderView } from "./leadership.ts";
export { type NodeConfig, type NodeIo, type RunningNode, startNode } from "./node.ts";
export { defaultNodeIo, openOutputPort } from "./io.ts";
export { OutputHub } from "./output_hub.ts";
export { ReplicatedState } from "./replicated_state.ts";
export { type ExecutorPort, liveKey, type OutputPort, Runner } from "./runner.ts";
