/**
 * Every bound in Tock lives here, with its unit and why. Config may only lower these.
 * Sections are owned by the folder named in their heading.
 */

// ---- api ----

/** Bytes of a REST/Connect request body. A job is a few KiB; restore files hold many jobs. */
export const requestBodyBytesMax = 1 << 20;
/** Bytes of a POST /v1/restore upload: a backup of thousands of jobs. */
export const restoreBodyBytesMax = 32 << 20;

// ---- cli ----

/** Reconnects of `tock job run --wait` after a broken watch stream before it gives up. */
export const cliWatchReconnectsMax = 10;
/** Milliseconds between looks at a run `--wait` only sees the record of (and reconnect backoff base). */
export const cliWatchPollMs = 500;

// ---- job model ----

/** Characters in a job name: it is a URL path segment and a key. */
export const jobNameCharsMax = 256;
/** Characters in a schedule spec. */
export const scheduleCharsMax = 1_024;
/** Entries in tags, metadata, executor_config, processors. */
export const mapEntriesMax = 256;
/** Characters in one map key or free-text field (owner, displayname, ...). */
export const fieldCharsMax = 4_096;
/** Characters in one executor_config value (a shell script or an http body). */
export const configValueCharsMax = 256 * 1024;
/** Retries per run (Dkron has no bound; an unbounded retry count is a foot-gun). */
export const retriesMax = 1_000;
/** Depth of a parent/child chain: a cycle check walks at most this far. */
export const chainDepthMax = 1_000;
/** Jobs in one cluster: every job is in memory on the leader's scheduler heap. */
export const jobsMax = 1_000_000;

// ---- executions ----

/** Bytes of execution output kept per execution (Dkron keeps the last 256,000 bytes). */
export const outputBytesMax = 256_000;
/** Bytes of the output tail kept in the replicated execution summary. */
export const outputTailBytesMax = 1_024;
/** Executions kept per job before the oldest are deleted (default retention). */
export const executionsPerJobMax = 100;

// ---- store / propose ----

/** Commands applied in one transaction (one event-loop turn); the rest wait for the next turn,
 * so a long queue cannot hold the event loop (and the API) for seconds. */
export const applyBatchMax = 1_000;
/** Commands waiting to be applied; a full queue fails the proposal visibly (429, overloaded). */
export const proposalQueueMax = 10_000;
/** Milliseconds a propose() waits for its command to apply before failing with timeout. */
export const proposeTimeoutMs = 10_000;
/**
 * Milliseconds one forward of a write to the leader may take before it is sent again (same
 * request id, so apply keeps one copy). Shorter than proposeTimeoutMs so a leader that vanished
 * silently costs one try, not the caller's whole wait.
 */
export const forwardTimeoutMs = 3_000;
/**
 * Log entries a client request id is remembered for deduplication: a forwarded write retried
 * after a timeout comes back within seconds, i.e. a few thousand entries even at 1,000 fires/s.
 */
export const requestIdsKeptEntries = 100_000;
/** Entries applied since the last snapshot before the next one is taken (hashicorp/Dkron: 8192). */
export const snapshotThresholdEntries = 8_192;
/**
 * Milliseconds between snapshots at least. A snapshot copies state.db on the event loop, so a busy
 * log (1,000 fires/s is ~2,000 entries/s) is not compacted every 4 s; the core keeps entries since
 * the last snapshot in memory, so not every 120 s (hashicorp) either: 30 s bounds it near 60k.
 */
export const snapshotIntervalMs = 30_000;
/**
 * Milliseconds to wait after a snapshot failed (a full disk) before trying again, at least: each
 * attempt copies all of state.db, so a failing one must not repeat after every batch.
 */
export const snapshotRetryAfterFailureMs = 10_000;
/** Milliseconds between attempts to reach a leader for a write while none is known. */
export const leaderRetryMs = 50;

// ---- gossip ----

/** Bytes of one gossip UDP datagram, label and encryption included (memberlist UDPBufferSize; below a 1500 MTU). */
export const gossipPacketBytesMax = 1_400;
/** Bytes reserved in each datagram for the label header (2 + label) and AES-GCM (29). */
export const gossipPacketOverheadBytes = 2 + 64 + 29;
/** Bytes of a cluster label: it is sent in every datagram, so it stays short. */
export const gossipLabelBytesMax = 64;
/** Messages in one compound datagram: 1400 bytes cannot hold more useful ones. */
export const gossipMessagesPerPacketMax = 64;
/** Bytes of a node name (UTF-8): a host name fits easily. */
export const gossipNodeNameBytesMax = 128;
/** Bytes of a node address "host:port" (IPv6 literals included). */
export const gossipAddrBytesMax = 256;
/** Bytes of a node's encoded tags (memberlist MetaMaxSize). */
export const gossipTagsBytesMax = 512;
/** Bytes of a user event payload (Serf UserEventSizeLimit default). */
export const gossipUserEventBytesMax = 512;
/** Bytes of a user event name. */
export const gossipEventNameBytesMax = 128;
/** Bytes of one push-pull stream frame (memberlist caps state at 20 MB; 4 MiB holds 4096 members). */
export const gossipStreamBytesMax = 4 << 20;
/** Members in the table and in one push-pull: bounds memory and anti-entropy cost. */
export const gossipMembersMax = 4_096;
/** User events carried by one push-pull (recent ones, for anti-entropy after a partition). */
export const gossipPushPullEventsMax = 64;
/** Pending broadcasts (Serf MaxQueueDepth); the oldest most-sent one is dropped and counted. */
export const gossipBroadcastQueueMax = 4_096;
/** Lamport slots remembered for user event dedupe (Serf EventBuffer). */
export const gossipEventBufferSize = 512;
/** Undrained output events; beyond this they are dropped and counted. */
export const gossipEventsQueueMax = 65_536;
/** Indirect probes relayed for others at once; more are dropped and counted. */
export const gossipRelaysMax = 1_024;
/** Bytes of a query payload: with name, source and address it fits one 1400-byte datagram. */
export const gossipQueryPayloadBytesMax = 512;
/** Bytes of one query response payload (a keyring listing of 8 keys is ~400). */
export const gossipQueryResponseBytesMax = 768;
/** Queries this node started and still collects answers for; more are refused (overloaded). */
export const gossipQueriesOpenMax = 64;
/** Queries remembered for dedupe (and to re-send our answer to a duplicate); more are dropped, counted. */
export const gossipQueriesSeenMax = 1_024;
/** Milliseconds a query is remembered for dedupe at least: longer than its gossip lifetime. */
export const gossipQuerySeenMinMs = 30_000;
/** Milliseconds a query may collect answers (Serf's default is seconds; 5 min is plenty). */
export const gossipQueryTimeoutMsMax = 300_000;
/** Times a query's originator asks silent members again, directly (lost query or answer). */
export const gossipQueryReasksMax = 2;
/** Keys in one gossip keyring: rotation needs 2; more only slows decryption of every frame. */
export const gossipKeyringKeysMax = 8;
/** Bytes of a /v1/keyring request body: {"key": "<44 base64 chars>"} with room to spare. */
export const keyringBodyBytesMax = 4_096;

// ---- schedule ----

/** Years nextSlot searches ahead before deciding a cron spec never fires again. Robfig uses 5;
 * 10 keeps a 29 February spec alive across the skipped leap year 2100 (an 8-year gap). */
export const scheduleSearchYearsMax = 10;
/** Loop turns in one cron next-time search: the stepper moves at least a day, an hour, a minute
 * or to a match per turn, so 10 years need well under 100k; more is a bug (assertion). */
export const scheduleStepsMax = 200_000;
/** Compiled cron specs cached in memory (entries, about 400 bytes each): one per distinct spec,
 * sized for the 100k-job scheduler heap; a miss costs one re-parse (a few µs). */
export const scheduleCacheMax = 200_000;
/** Hour buckets of UTC offsets cached per time zone (entries): a year is 8,760 buckets. */
export const scheduleZoneBucketsMax = 100_000;
/** Milliseconds of the longest `@every` interval (100 years); longer means a typo. */
export const everyIntervalMsMax = 100 * 365 * 86_400_000;
/** Slots one nextSlots/slotsBetween call returns at most (entries): catch-up after downtime is
 * bounded by the missed-run policy, never by an unbounded list. */
export const slotsPerCallMax = 100_000;

// ---- api/connect ----

/** Slots one GetNextRuns call may return: each costs a schedule step; a UI shows a handful. */
export const nextRunsMax = 1_000;
/** Bytes of output in one WatchExecution message: small frames keep browsers and proxies responsive. */
export const watchChunkBytesMax = 64 * 1024;
/** Latest results per job a ListJobs page may ask for (executions): the UI's strip shows ~20. */
export const recentRunsMax = 50;
/** Schedule steps one GetUpcoming call may take in total (slots): bounds the 24 h histogram's
 * cost at 100k jobs; beyond it the answer says `truncated`. */
export const upcomingSlotsMax = 200_000;
/** Soonest launches one GetUpcoming call may list (entries): a timeline shows a page of them. */
export const upcomingListMax = 500;
/** Hours ahead GetUpcoming may look: the UI's "next 24 h" timeline. */
export const upcomingHoursMax = 24;
/** Milliseconds WatchChanges waits after a change before telling clients (coalescing): at 1,000
 * runs/s a page refetches at most this often instead of once per change. */
export const changeNotifyMs = 500;
/** Bytes below which an API or UI response is sent uncompressed: compression would not pay. */
export const compressBytesMin = 1_024;

// ---- executor ----

/** Milliseconds between RSS checks of a shell job's process group for mem_limit (Dkron: 1 s). */
export const shellMemCheckIntervalMs = 1_000;
/** Milliseconds a shell job's output pipes may stay open after the command exited (background
 * processes holding them); then the group is killed so the run ends and nothing leaks. */
export const shellPipeDrainMs = 1_000;
/** Seconds an http executor request may take when the job sets no timeout (Dkron's default). */
export const httpTimeoutSecondsDefault = 30;
/** Redirects the http executor follows before failing (Go's http.Client default, as Dkron). */
export const httpRedirectsMax = 10;
/** Bytes of a live execution's output gathered in memory before output.db writes them as one
 * row: a row (and a transaction) per small write (one line each) would cap appends at ~8k/s. */
export const outputChunkBytesMin = 16 * 1024;
/** Bytes of output kept in output.db on one node across all jobs (default global retention). */
export const outputStoreBytesMax = 1 << 30;
/** Milliseconds output is kept in output.db by default (30 days), like a log rotation window. */
export const outputStoreAgeMsMax = 30 * 86_400_000;

// ---- scheduler ----

/** Slots one catch-up may launch under misfire_policy run_all: more would stampede the node
 * after a long outage; the rest are recorded as missed. */
export const runAllSlotsMax = 100;
/** Missed slots recorded one by one per job per catch-up; beyond it one summary record says
 * how many more were missed (an @every 1s job down for a day misses 86,400). */
export const missedRecordsMax = 100;
/** Milliseconds a running execution's lease lasts without renewal before it becomes lost. */
export const leaseMs = 15_000;
/** Milliseconds between lease renewals by the runner (a third of the lease: two can be lost). */
export const leaseRenewMs = 5_000;
/** Milliseconds between sweeps for lapsed leases. */
export const leaseSweepMs = 2_000;
/** Milliseconds of the longest starting_deadline / retry_delay(_max) (30 days): longer is a typo. */
export const jobDurationFieldMsMax = 30 * 86_400_000;
/** Milliseconds before its slot a fire is committed: the commit (one batched transaction for
 * all jobs due together, ~75 ms for 1,000 on one server of this 2-core box; through a 3-server
 * Raft group, replication of the batch included, 200-400 ms under load) must not count as
 * lateness. */
export const fireLeadMs = 600;
/** Milliseconds before a job's failed fire (a write that failed, e.g. disk full) is tried again;
 * it doubles per consecutive failure up to fireRetryMsMax, so a failing fire cannot spin. */
export const fireRetryMs = 1_000;
/** Milliseconds of the longest wait between tries of a failing fire. */
export const fireRetryMsMax = 60_000;
/** Milliseconds between log lines about one job's failing fires (each line carries the count). */
export const fireFailureLogMs = 60_000;
/** Due entries handled per scheduler turn before yielding to the event loop: each one costs a
 * fire and a finish (~0.3 ms together on this 2-core box), so a turn stays near 60 ms and HTTP
 * requests are served between turns even when thousands of jobs are due at once. */
export const schedulerBatchMax = 200;

// ---- raft ----

/** AppendEntries messages in flight per follower (replicate state): bounds the pipeline's memory. */
export const raftInflightMsgsMax = 64;
/** Entries per AppendEntries message: keeps one RPC well under raftRpcBytesMax for small commands. */
export const raftEntriesPerMsgMax = 256;
/** Uncommitted entries a leader holds before refusing proposals: a full queue fails visibly. */
export const raftUncommittedEntriesMax = 10_000;
/** Payload bytes per AppendEntries message (at least one entry is always sent): bounds RPC size. */
export const raftAppendBytesMax = 2 << 20;
/** Entries handed to the application per Ready: one apply turn stays short. */
export const raftCommittedPerReadyMax = 1_024;
/** Entries kept behind a snapshot so a briefly absent follower catches up without one (hashicorp: 10240). */
export const raftTrailingEntries = 10_240;
/** Bytes of one inter-node Raft RPC body (a batch of messages or one snapshot chunk). */
export const raftRpcBytesMax = 8 << 20;
/** Bytes of one InstallSnapshot chunk: bounded memory per call, many calls per 64 MB snapshot. */
export const raftSnapshotChunkBytes = 1 << 20;
/** Bytes of a whole snapshot being reassembled from chunks (the state.db of a large cluster). */
export const raftSnapshotBytesMax = 1 << 30;
/** Milliseconds an inter-node Raft RPC may take before it is abandoned (Raft retries by itself). */
export const raftRpcTimeoutMs = 2_000;
/** Messages queued per peer while an RPC is in flight; beyond this the oldest are dropped (Raft resends). */
export const raftPeerQueueMax = 4_096;

// ---- membership (cli/config, membership, node/membership) ----

/** Addresses in --join or --retry-join: a handful of seeds is enough; each is dialled per attempt. */
export const joinAddrsMax = 64;
/** Milliseconds, shortest --retry-interval: below this a down seed list becomes a busy loop. */
export const retryJoinIntervalMinMs = 100;
/** Milliseconds, longest --retry-interval (1 h): a longer wait looks like a hung agent. */
export const retryJoinIntervalMaxMs = 3_600_000;
/** Milliseconds, longest --failed-server-grace (7 days): beyond it, remove the peer by hand. */
export const failedServerGraceMaxMs = 7 * 24 * 3_600_000;
/** Servers named in a peers.json: Raft groups are 3 or 5; 64 is far beyond any sane group. */
export const peersJsonServersMax = 64;
/** Bytes of a peers.json file: a few hundred per server. */
export const peersJsonBytesMax = 64 * 1024;
/** Entries a learner may trail the commit index and still count as caught up for promotion: one
 * AppendEntries batch (raftEntriesPerMsgMax), which the next replication round closes. */
export const learnerCatchUpLagEntriesMax = 256;
// ---- acl / audit ----

/** Job rules in one ACL policy: each request checks every rule of every policy of its token. */
export const aclRulesMax = 256;
/** Policies attached to one token. */
export const aclPoliciesPerTokenMax = 64;
/** ACL tokens in a cluster: every one is a row in replicated state. */
export const aclTokensMax = 100_000;
/** ACL policies in a cluster. */
export const aclPoliciesMax = 10_000;
/** Bytes of an Authorization / X-Dkron-Token header: a Tock secret is 48 characters. */
export const authHeaderBytesMax = 1_024;
/** Audit entries kept in replicated state; the oldest beyond this are deleted on append. */
export const auditEntriesMax = 100_000;
/** Milliseconds an audit entry is kept (30 days); older ones are deleted on append. */
export const auditRetentionMs = 30 * 24 * 3600 * 1000;
/** Audit entries returned per page of GET /v1/audit. */
export const auditPageMax = 1_000;
/** Bytes of one `${file:...}` job secret read on a worker: a key or a password, not a dataset. */
export const secretBytesMax = 64 * 1024;

// ---- executor: brokers and plugins; processor; notify ----

/** Seconds a broker executor (grpc, nats, rabbitmq, kafka, redis) may take in all (connect,
 * send, acknowledgement or reply) when the job sets no `timeout`: Dkron's grpc default. */
export const brokerTimeoutSecondsDefault = 30;
/** Seconds a job may set as a broker executor `timeout`: a day; longer is a stuck broker. */
export const brokerTimeoutSecondsMax = 86_400;
/** Bytes of a message an executor publishes (kafka, nats, rabbitmq): brokers' usual 1 MiB. */
export const brokerMessageBytesMax = 1 << 20;
/** Milliseconds a plugin may take to print its handshake line after it was started. */
export const pluginHandshakeMs = 10_000;
/** Milliseconds to wait for a plugin's exit after its stream broke, to report a crash as one. */
export const pluginExitWaitMs = 1_000;
/** Bytes of a plugin's stdout read while waiting for the handshake line. */
export const pluginHandshakeBytesMax = 4_096;
/** Executor plugins loaded from --plugin-dir: each costs a process start at validation. */
export const pluginsMax = 64;
/** Milliseconds a processor (files, syslog, fluent) may take before it is given up. */
export const processorTimeoutMs = 10_000;
/** Bytes of output one syslog message carries: UDP datagrams past ~64 KiB are refused. */
export const syslogMessageBytesMax = 60_000;
/** Attempts of one webhook notification (the first and its retries). */
export const webhookAttemptsMax = 5;
/** Milliseconds before the first webhook retry; it doubles per attempt. */
export const webhookRetryDelayMs = 1_000;
/** Milliseconds one webhook or mail attempt may take. */
export const notifyTimeoutMs = 10_000;
/** Notifications queued or in flight on one node; past it new ones are dropped and logged, so a
 * dead endpoint cannot grow memory without bound. */
export const notifyQueueMax = 1_000;

// ---- dispatch ----

/** Launch ids a worker remembers for dedupe (persisted with the highest term it saw). An id
 * stays while its run is active (running, or its finish not yet applied); at the bound the
 * oldest settled id is forgotten, and with none settled the launch is refused (`window_full`),
 * so an id that could still be re-dispatched is never forgotten. Also bounds running + unsent
 * finishes on one worker. */
export const fenceAcceptedIdsMax = 10_000;
/** Finishes waiting in a worker's durable outbox. The fence window keeps it below this (every
 * entry is an active accepted id); if it is reached anyway (a lowered bound after a restart)
 * the oldest entry is dropped and counted, and the leader records that run lost once the
 * worker stops reporting it. */
export const outboxEntriesMax = 10_000;
/** Finishes sent to the leader in one batch: a long backlog after a partition drains in turns. */
export const outboxSendBatchMax = 256;
/** Milliseconds before an unacknowledged finish is sent again on the same session. */
export const outboxResendMs = 5_000;
/** Milliseconds after a launch (or an election) before the leader re-sends a launch its worker
 * does not report holding: a heartbeat built before the launch arrived must not trigger it. */
export const redispatchGraceMs = 5_000;
