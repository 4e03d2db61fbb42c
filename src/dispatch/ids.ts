/**
 * Execution ids per target. A fire (or a retry, or a manual run) creates one execution per
 * target node, and its id must be unique per (job, slot, attempt, node) and deterministic: a
 * re-dispatch after a leader change carries the same id, so the worker's dedupe recognises it
 * (Dkron's id is `<started_at nanos>-<node>`, taken from the worker's clock at start, so a
 * second launch of the same slot got a new id and nothing could tell it was a duplicate).
 *
 * Shape: today's `<slot>-<attempt>` (state's executionId) followed by `-<node>`. Node names are
 * `[A-Za-z0-9][A-Za-z0-9._-]*` (cli config), so the id stays one URL path segment, and since
 * slot and attempt are digits the id parses back unambiguously even when the node name holds
 * '-' or starts with a digit. Ids recorded before (no node part) still parse, with node null.
 * Ids are unique within a job; keys across jobs use `launchKey`.
 */
import { executionId } from "../state/mod.ts";

/** The id of the execution of (slot, attempt) on `node`. */
export function targetExecutionId(slotMs: number, attempt: number, node: string): string {
  return `${executionId(slotMs, attempt)}-${node}`;
}

export interface ParsedExecutionId {
  slotMs: number;
  attempt: number;
  /** null for ids recorded before executions were per target (`<slot>-<attempt>`). */
  node: string | null;
}

/** Reads an id back; undefined when it is not one Tock makes. */
export function parseExecutionId(id: string): ParsedExecutionId | undefined {
  const m = /^(\d+)-(\d+)(?:-([A-Za-z0-9][A-Za-z0-9._-]*))?$/.exec(id);
  if (!m) return undefined;
  const slotMs = Number(m[1]);
  const attempt = Number(m[2]);
  if (!Number.isSafeInteger(slotMs) || !Number.isSafeInteger(attempt)) return undefined;
  return { slotMs, attempt, node: m[3] ?? null };
}

/** A key unique across jobs: execution ids repeat between jobs (node's liveKey uses the same). */
export const launchKey = (job: string, id: string): string => `${job}/${id}`;

/** Splits a launch key at its last '/' (ids never hold one; job names may). */
export function splitLaunchKey(key: string): { job: string; id: string } | undefined {
  const at = key.lastIndexOf("/");
  if (at <= 0 || at === key.length - 1) return undefined;
  return { job: key.slice(0, at), id: key.slice(at + 1) };
}
