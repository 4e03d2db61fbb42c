/**
 * Every bound in Tock lives here, with its unit and why. Config may only lower these.
 * Sections are owned by the folder named in their heading.
 */

// ---- api ----

/** Bytes of a REST/Connect request body. A job is a few KiB; restore files hold many jobs. */
export const requestBodyBytesMax = 1 << 20;
/** Bytes of a POST /v1/restore upload: a backup of thousands of jobs. */
export const restoreBodyBytesMax = 32 << 20;
/** Jobs in one page of GET /v1/jobs when the client does not ask for a range (Dkron: all). */
export const jobsPageMax = 100_000;

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

/** Commands waiting to be applied; a full queue fails the proposal visibly. */
export const proposalQueueMax = 10_000;
/** Milliseconds a propose() waits for its command to apply before failing with timeout. */
export const proposeTimeoutMs = 10_000;

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
