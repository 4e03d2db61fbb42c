/**
 * consensus: the Raft shell (persist → send → apply → advance around the pure core in raft/),
 * its Connect transport over HTTP/1.1 with batching, and snapshots as files streamed in
 * bounded chunks. The application plugs in as a StateMachine.
 */
export {
  type LogStore,
  RaftShell,
  type RaftShellOptions,
  type ShellEvent,
  type StateMachine,
  type Transport,
} from "./shell.ts";
export { HttpTransport, mountRaftService, type TransportStats } from "./transport.ts";
export { messageFromProto, messageToProto, snapshotChunk, snapshotMessage } from "./codec.ts";
export {
  decodeDescriptor,
  encodeDescriptor,
  type SnapshotDescriptor,
  SnapshotDir,
} from "./snapshot_files.ts";
