/**
 * raftnode: the Raft shell (persist → send → apply → advance), Connect transport over
 * HTTP/1.1 with batching and chunked snapshots, and the replicated KV test application used by
 * the process tests and benches. The cluster issue builds its node on the same shape.
 */
export {
  type LogStore,
  RaftNode,
  type RaftNodeEvent,
  type RaftNodeOptions,
  type Transport,
} from "./node.ts";
export { HttpTransport, raftFetchHandler, type TransportStats } from "./transport.ts";
export { messageFromProto, messageToProto, SnapshotAssembler, snapshotToChunks } from "./codec.ts";
