/**
 * gossip: membership for Tock (SWIM + Lifeguard, as hashicorp/memberlist; tags and user events,
 * as Serf). A pure core: no clock, no randomness, no IO. The shell (src/net/) feeds it datagrams
 * and ticks and performs its outputs.
 *
 * How the cluster code uses it:
 *
 * ```ts
 * const core = new GossipCore({ name, addr, config: makeConfig("lan"), prng, tags, incarnation });
 * core.join(["10.0.0.1:8946"]);      // push-pull to seeds, retried until a peer answers
 * core.setTags({ role: "web" });     // ≤ 512 bytes encoded; disseminated as an alive update
 * core.userEvent("deploy", bytes);   // Lamport-ordered, deduplicated, delivered everywhere
 * core.leave();                      // peers report "left", not "failed"
 * core.members();                    // [{ name, addr, tags, state, incarnation }]
 * const id = core.query("name", bytes, timeoutMs); // Serf query: every member answers once
 * // output.queries: { type: "query" } → core.respond(from, id, bytes); originator gets
 * // { type: "queryResponse", from } per member, then { type: "queryDone" } at the deadline
 * // every tickMs: core.tick(); on a datagram: core.receive(fromAddr, plaintext)
 * const { packets, streams, events } = core.takeOutput();
 * // events: { type: "member", kind: join|update|leave|failed|reap, member } | { type: "user", ... }
 * ```
 *
 * A node process does not drive the core by hand: `startGossipNode({ name, bindPort, join,
 * profile, tags, keyring, label })` from src/net/mod.ts binds UDP+TCP, runs the ticks and
 * returns a GossipShell; subscribe with `shell.onEvent(fn)`, and reach the core (members,
 * setTags, userEvent) as `shell.core`; `shell.leave()` leaves gracefully. `generateKey()` for
 * `tock keygen` lives in src/net too (it needs node:crypto).
 *
 * Identity: a member is its name; its address may change with a higher incarnation. A restarted
 * node must start above every earlier incarnation (startGossipNode uses unix seconds).
 */
export { type CoreOptions, GossipCore } from "./core.ts";
export {
  fastProfile,
  type GossipConfig,
  lanProfile,
  localProfile,
  makeConfig,
  type ProfileName,
  profiles,
  validateConfig,
} from "./config.ts";
export {
  type Decoded,
  decodePacket,
  decodeStream,
  decodeTags,
  encodedMsgSize,
  encodePacket,
  encodeTags,
} from "./codec.ts";
export { retransmitLimit } from "./broadcast.ts";
export { suspicionMinMs, suspicionTimeoutMs } from "./suspicion.ts";
export type {
  GossipEvent,
  GossipStats,
  Member,
  MemberEventKind,
  Msg,
  NodeState,
  OutPacket,
  Output,
  OutStream,
  PushPullMsg,
  QueryEvent,
  QueryMsg,
  QueryResponseMsg,
} from "./types.ts";
