/**
 * Snapshots as files. The Raft core carries a snapshot's `data` opaquely; here that data is a
 * small descriptor naming a file in the node's snapshot directory, so neither the sender nor
 * the receiver ever holds a whole snapshot in memory: the sender reads the file chunk by chunk,
 * the receiver appends chunks to a partial file, fsyncs it and renames it into place.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { invalid, limits } from "../lib/mod.ts";

/** What a snapshot's `data` holds: the file's name (in the snapshot dir) and its size. */
export interface SnapshotDescriptor {
  readonly file: string;
  readonly bytes: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeDescriptor(d: SnapshotDescriptor): Uint8Array {
  return enc.encode(JSON.stringify({ file: d.file, bytes: d.bytes }));
}

export function decodeDescriptor(data: Uint8Array): SnapshotDescriptor {
  let v: { file?: unknown; bytes?: unknown };
  try {
    v = JSON.parse(dec.decode(data)) as typeof v;
  } catch {
    throw invalid(`snapshot descriptor is not JSON (${data.length} bytes)`);
  }
  if (typeof v.file !== "string" || !/^[\w.-]+$/.test(v.file) || typeof v.bytes !== "number") {
    throw invalid(`malformed snapshot descriptor ${dec.decode(data).slice(0, 200)}`);
  }
  return { file: v.file, bytes: v.bytes };
}

/** Identifies one incoming transfer: the same snapshot from the same leader session. */
export interface IncomingKey {
  from: string;
  term: number;
  index: number;
}

/** The snapshot directory of one node: names, writes, reads in chunks, and cleans up. */
export class SnapshotDir {
  readonly dir: string;
  /** The one transfer being received (a new one from a newer leader replaces it). */
  #incoming: { key: string; path: string; fd: number; written: number } | undefined;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    // Partial transfers of a previous process are useless: the leader restarts from offset 0.
    for (const f of readdirSync(dir)) {
      if (f.endsWith(".part")) rmSync(join(dir, f), { force: true });
    }
  }

  path(file: string): string {
    return join(this.dir, file);
  }

  /** A fresh file name for a snapshot taken here at (term, index). */
  newName(term: number, index: number): string {
    let name = `snap-${term}-${index}.db`;
    for (let n = 1; existsSync(this.path(name)); n++) name = `snap-${term}-${index}-${n}.db`;
    return name;
  }

  /** Describes a finished file: fsyncs it (VACUUM INTO does not) and reads its size. */
  seal(file: string): SnapshotDescriptor {
    const fd = openSync(this.path(file), "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return { file, bytes: statSync(this.path(file)).size };
  }

  /** Reads a snapshot file in bounded chunks (one chunk in memory at a time). */
  *chunks(d: SnapshotDescriptor): Generator<Uint8Array> {
    const fd = openSync(this.path(d.file), "r");
    try {
      let offset = 0;
      for (;;) {
        const buf = new Uint8Array(Math.min(limits.raftSnapshotChunkBytes, d.bytes - offset));
        if (buf.length === 0) return;
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n === 0) throw invalid(`snapshot ${d.file} is shorter than ${d.bytes} bytes`);
        offset += n;
        yield n === buf.length ? buf : buf.subarray(0, n);
      }
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Appends one received chunk. Chunks of a transfer arrive in order (one RPC in flight per
   * peer); a chunk at offset 0 starts over. Returns the descriptor once `done`, else undefined.
   */
  receive(
    k: IncomingKey,
    offset: number,
    totalBytes: number,
    data: Uint8Array,
    done: boolean,
  ): SnapshotDescriptor | undefined {
    if (totalBytes > limits.raftSnapshotBytesMax) {
      throw invalid(`snapshot of ${totalBytes} bytes exceeds ${limits.raftSnapshotBytesMax}`);
    }
    const key = `${k.from}-${k.term}-${k.index}`;
    if (offset === 0) {
      this.#drop();
      const path = this.path(`recv-${key}.part`);
      this.#incoming = { key, path, fd: openSync(path, "w"), written: 0 };
    }
    const cur = this.#incoming;
    if (cur === undefined || cur.key !== key || cur.written !== offset) {
      this.#drop();
      throw invalid(
        `snapshot chunk at ${offset} of ${key} does not continue the transfer in progress`,
      );
    }
    for (let at = 0; at < data.length;) at += writeSync(cur.fd, data, at, data.length - at);
    cur.written += data.length;
    if (!done) return undefined;
    if (cur.written !== totalBytes) {
      this.#drop();
      throw invalid(`snapshot ${key} ended at ${cur.written} of ${totalBytes} bytes`);
    }
    fsyncSync(cur.fd);
    closeSync(cur.fd);
    this.#incoming = undefined;
    const file = this.newName(k.term, k.index).replace(/^snap-/, `recv-${k.from}-`);
    renameSync(cur.path, this.path(file));
    return { file, bytes: totalBytes };
  }

  /** Deletes snapshot files other than `keep` (the ones Raft still references). */
  prune(keep: ReadonlySet<string>): void {
    for (const f of readdirSync(this.dir)) {
      if (f.endsWith(".part") || keep.has(f)) continue;
      rmSync(this.path(f), { force: true });
    }
  }

  #drop(): void {
    const cur = this.#incoming;
    if (cur === undefined) return;
    try {
      closeSync(cur.fd);
    } catch { /* already closed */ }
    rmSync(cur.path, { force: true });
    this.#incoming = undefined;
  }

  close(): void {
    this.#drop();
  }
}
