/**
 * The port apply() writes through. store/ implements it over SQLite inside one transaction per
 * command; MemoryStateStore implements it over Maps for pure tests.
 */
import { type AclStore, MemoryAclStore } from "./acl.ts";
import type { Execution } from "./execution.ts";
import type { Job } from "./job.ts";

export interface StateStore {
  getJob(name: string): Job | undefined;
  putJob(job: Job): void;
  deleteJob(name: string): void;
  /** Number of jobs (cheap: no copies). */
  countJobs(): number;
  getExecution(job: string, id: string): Execution | undefined;
  putExecution(e: Execution): void;
  deleteExecutions(job: string): void;
  /** Deletes every execution of `job` that is not running (clearing history spares live runs). */
  deleteFinishedExecutions(job: string): void;
  /** Executions of one job, oldest first (by group, then attempt). */
  executionsOf(job: string): Execution[];
  /**
   * Deletes the oldest not-running executions of `job` beyond the newest `keep` not-running
   * ones. Running executions are never deleted: their runner still renews and finishes them.
   */
  trimExecutions(job: string, keep: number): void;
  /** ACL tokens, policies and the audit log. */
  readonly acl: AclStore;
}

export class MemoryStateStore implements StateStore {
  readonly jobs = new Map<string, Job>();
  readonly executions = new Map<string, Map<string, Execution>>();
  readonly acl: AclStore = new MemoryAclStore();

  getJob(name: string): Job | undefined {
    const j = this.jobs.get(name);
    return j && structuredClone(j);
  }
  putJob(job: Job): void {
    this.jobs.set(job.name, structuredClone(job));
  }
  deleteJob(name: string): void {
    this.jobs.delete(name);
  }
  /** Every job, in name order (tests and in-memory nodes). */
  allJobs(): Job[] {
    return [...this.jobs.keys()].sort().map((k) => structuredClone(this.jobs.get(k) as Job));
  }
  countJobs(): number {
    return this.jobs.size;
  }
  getExecution(job: string, id: string): Execution | undefined {
    const e = this.executions.get(job)?.get(id);
    return e && structuredClone(e);
  }
  putExecution(e: Execution): void {
    let m = this.executions.get(e.job_name);
    if (!m) this.executions.set(e.job_name, m = new Map());
    m.set(e.id, structuredClone(e));
  }
  deleteExecutions(job: string): void {
    this.executions.delete(job);
  }
  deleteFinishedExecutions(job: string): void {
    const m = this.executions.get(job);
    for (const [id, e] of m ?? []) if (e.status !== "running") m?.delete(id);
  }
  executionsOf(job: string): Execution[] {
    return [...(this.executions.get(job)?.values() ?? [])]
      .sort((a, b) => a.group - b.group || a.attempt - b.attempt)
      .map((e) => structuredClone(e));
  }
  trimExecutions(job: string, keep: number): void {
    const all = this.executionsOf(job).filter((e) => e.status !== "running");
    const m = this.executions.get(job);
    for (const e of all.slice(0, Math.max(0, all.length - keep))) m?.delete(e.id);
  }
}
