/** Audit entries: one per write request, kept in replicated state with count and age retention. */

export interface AuditEntry {
  /** Sequence number assigned by apply(): increasing, the paging cursor. */
  seq: number;
  /** Epoch ms when the request finished (the proposer's clock). */
  at: number;
  /** Token accessor ("" when ACLs are off) and name ("anonymous" then). */
  accessor: string;
  token_name: string;
  /** "POST /v1/jobs/x/run" or "tock.v1.JobService/RunJob". */
  action: string;
  /** The job the write named, or "". */
  job: string;
  /** Where the request came from (the peer address). */
  remote: string;
  /** HTTP status of the answer (Connect errors map to their HTTP status). */
  status: number;
  /** The error message when status >= 400, else "". */
  error: string;
}

export type AuditInput = Omit<AuditEntry, "seq">;
