/** node: one Tock process — state, the propose() door, the runner and the HTTP surface. */
export { type Applied, LocalLog, type Proposer } from "./local_log.ts";
export { type NodeConfig, type NodeIo, type RunningNode, startNode, systemClock } from "./node.ts";
export { defaultNodeIo, openOutputPort } from "./io.ts";
export { OutputHub } from "./output_hub.ts";
export { type ExecutorPort, liveKey, type OutputPort, Runner } from "./runner.ts";
