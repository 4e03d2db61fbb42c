/** The executor contract shared by every executor in this folder. */
import { limits } from "../lib/mod.ts";

/** One run handed to an executor. */
export interface ExecutionRequest {
  executionId: string;
  jobName: string;
  /** Executor name, e.g. "shell"; the registry key. */
  executor: string;
  /** The job's executor_config, with Dkron's keys. */
  config: Record<string, string>;
  /** Aborting kills the run (for shell: the whole process group) and fails it. */
  signal: AbortSignal;
  /** Called with each output chunk as it arrives, until outputBytesMax bytes were passed. */
  onOutput(chunk: Uint8Array): void;
  /**
   * Called with the process group id when an executor starts OS processes (shell), so the node
   * can kill the group after a crash of its own (a detached group outlives a SIGKILLed agent).
   */
  onSpawn?(pgid: number): void;
  /** Bytes passed to onOutput at most (the head of the output); the rest is drained and counted. */
  outputBytesMax: number;
}

/** How a run ended. `error` is "" on success and names the failure otherwise. */
export interface ExecutionResult {
  success: boolean;
  /** Process exit code (shell), HTTP status (http), or null when there is none (killed, no reply). */
  exitCode: number | null;
  error: string;
  /** Bytes of output produced, including those dropped past outputBytesMax and executor notes. */
  outputBytes: number;
  /** True when output past outputBytesMax was dropped. */
  truncated: boolean;
  /**
   * The last limits.outputTailBytesMax bytes of all output, dropped bytes included, for the
   * replicated execution summary (an error is usually at the end, past a truncated head).
   */
  tail?: Uint8Array;
}

/** An executor: validates a config at job-create time and runs one execution. */
export interface Executor {
  name: string;
  /** An error message naming the bad key and value, or undefined when the config is usable. */
  validate(config: Record<string, string>): string | undefined;
  /** Never rejects for an operating failure: failures come back as `success: false`. */
  run(req: ExecutionRequest): Promise<ExecutionResult>;
}

/**
 * Forwards output to onOutput up to the cap and counts the rest (which is read and dropped so
 * the producer never blocks on a full pipe). Notes from the executor itself (a timeout message)
 * are always delivered, so a truncated output still says why the run ended.
 */
export class OutputSink {
  #req: Pick<ExecutionRequest, "onOutput" | "outputBytesMax">;
  #forwarded = 0;
  #total = 0;
  #kept: Uint8Array[] = [];
  #keep: boolean;

  /** With keep = true the forwarded bytes are also kept for inspection (http expectBody). */
  constructor(req: Pick<ExecutionRequest, "onOutput" | "outputBytesMax">, keep = false) {
    this.#req = req;
    this.#keep = keep;
  }

  #tailParts: Uint8Array[] = [];
  #tailBytes = 0;

  #remember(chunk: Uint8Array): void {
    const max = limits.outputTailBytesMax;
    const part = chunk.length > max ? chunk.subarray(chunk.length - max) : chunk;
    this.#tailParts.push(part.slice());
    this.#tailBytes += part.length;
    while (this.#tailBytes - (this.#tailParts[0]?.length ?? 0) >= max) {
      this.#tailBytes -= (this.#tailParts.shift() as Uint8Array).length;
    }
  }

  /** The last outputTailBytesMax bytes written or noted, dropped ones included. */
  tail(): Uint8Array {
    const all = new Uint8Array(this.#tailBytes);
    let at = 0;
    for (const p of this.#tailParts) {
      all.set(p, at);
      at += p.length;
    }
    return all.subarray(Math.max(0, all.length - limits.outputTailBytesMax));
  }

  write(chunk: Uint8Array): void {
    if (chunk.length > 0) this.#remember(chunk);
    this.#total += chunk.length;
    const room = this.#req.outputBytesMax - this.#forwarded;
    if (room <= 0 || chunk.length === 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.#forwarded += part.length;
    if (this.#keep) this.#kept.push(part.slice());
    this.#req.onOutput(part);
  }

  note(text: string): void {
    const bytes = new TextEncoder().encode(text);
    this.#remember(bytes);
    this.#total += bytes.length;
    this.#forwarded += bytes.length;
    this.#req.onOutput(bytes);
  }

  get totalBytes(): number {
    return this.#total;
  }

  get truncated(): boolean {
    return this.#total > this.#forwarded;
  }

  /** The forwarded bytes (only when constructed with keep = true). */
  keptText(): string {
    const all = new Uint8Array(this.#kept.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of this.#kept) {
      all.set(c, at);
      at += c.length;
    }
    return new TextDecoder().decode(all);
  }
}
