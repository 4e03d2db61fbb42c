/** store: SQLite adapters — the application state (state.db) and the Raft log (raft.db). */
export { CorruptLogError, crc32, RaftLogStore, type SqlDb, type StoredEntry } from "./raft_log.ts";
export {
  type AppliedItem,
  type ExecutionActivity,
  type LogItem,
  SqliteStateStore,
  type StateFile,
} from "./state_store.ts";
