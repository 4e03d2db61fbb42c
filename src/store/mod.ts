/** store: SQLite adapters — the application state (state.db); the Raft log joins here. */
export { SqliteStateStore } from "./state_store.ts";
