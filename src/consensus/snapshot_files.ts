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
import { crc32 } from "../store/mod.ts";

/**
 * What a snapshot's `data` holds: the file's name (in the snapshot dir), its size and the CRC-32
 * of its bytes. `crc` is absent only in descriptors written before checksums existed (kept in an
 * older raft.db); such a file is checked by size alone.
 */
export interface SnapshotDescriptor {
  readonly file: string;
  readonly bytes: number;
  readonly crc?: number | undefined;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeDescriptor(d: SnapshotDescriptor): Uint8Array {
  return enc.encode(
    JSON.stringify(
      d.crc === undefined ? { file: d.file, bytes: d.bytes } : {
        file: d.file,
        bytes: d.bytes,
        crc: d.crc,
      },
    ),
  );
}

export function decodeDescriptor(data: Uint8Array): SnapshotDescriptor {
  let v: { file?: unknown; bytes?: unknown; crc?: unknown };
  try {
    v = JSON.parse(dec.decode(data)) as typeof v;
  } catch {
    throw invalid(`snapshot descriptor is not JSON (${data.length} bytes)`);
  }
  if (
    typeof v.file !== "string" || !/^[\w.-]+$/.test(v.file) || typeof v.bytes !== "number" ||
    (v.crc !== undefined && (typeof v.crc !== "number" || !Number.isInteger(v.crc)))
  ) {
    throw invalid(`malformed snapshot descriptor ${dec.decode(data).slice(0, 200)}`);
  }
  return v.crc === undefined
    ? { file: v.file, bytes: v.bytes }
    : { file: v.file, bytes: v.bytes, crc: v.crc };
}

/** Makes a rename or a new file in `dir` durable (the entry lives in the directory). */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
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
  #incoming:
    | { key: string; path: string; fd: number; written: number; crc: number }
    | undefined;

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

  /**
   * Describes a finished file: fsyncs it and its directory entry (VACUUM INTO does neither),
   * and reads its size and CRC-32 (in bounded chunks).
   */
  seal(file: string): SnapshotDescriptor {
    const fd = openSync(this.path(file), "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    fsyncDir(this.dir);
    const bytes = statSync(this.path(file)).size;
    return { file, bytes, crc: this.#crcOf({ file, bytes }) };
  }

  /**
   * Checks that a snapshot file still holds what its descriptor says (size, then CRC-32), so a
   * truncated or corrupted file is refused before it replaces state.db. Throws naming the file.
   */
  verify(d: SnapshotDescriptor): void {
    const path = this.path(d.file);
    if (!existsSync(path)) throw invalid(`snapshot file ${path} is missing`);
    const size = statSync(path).size;
    if (size !== d.bytes) {
      throw invalid(
        `snapshot file ${path} is corrupt: ${size} bytes where its descriptor says ${d.bytes}; refusing to install it`,
      );
    }
    if (d.crc === undefined) return;
    const crc = this.#crcOf(d);
    if (crc !== d.crc) {
      throw invalid(
        `snapshot file ${path} is corrupt: CRC-32 ${hex(crc)} where its descriptor says ${
          hex(d.crc)
        }; refusing to install it`,
      );
    }
  }

  #crcOf(d: SnapshotDescriptor): number {
    let crc = 0;
    for (const chunk of this.chunks(d)) crc = crc32(chunk, crc);
    return crc;
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
   * `expectedCrc` (the sender's CRC-32 of the whole file, sent with the last chunk) is checked
   * against the bytes received; a mismatch drops the transfer (the leader re-sends).
   */
  receive(
    k: IncomingKey,
    offset: number,
    totalBytes: number,
    data: Uint8Array,
    done: boolean,
    expectedCrc?: number,
  ): SnapshotDescriptor | undefined {
    if (totalBytes > limits.raftSnapshotBytesMax) {
      throw invalid(`snapshot of ${totalBytes} bytes exceeds ${limits.raftSnapshotBytesMax}`);
    }
    const key = `${k.from}-${k.term}-${k.index}`;
    if (offset === 0) {
      this.#drop();
      const path = this.path(`recv-${key}.part`);
      this.#incoming = { key, path, fd: openSync(path, "w"), written: 0, crc: 0 };
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
    cur.crc = crc32(data, cur.crc);
    if (!done) return undefined;
    if (cur.written !== totalBytes) {
      this.#drop();
      throw invalid(`snapshot ${key} ended at ${cur.written} of ${totalBytes} bytes`);
    }
    if (expectedCrc !== undefined && cur.crc !== expectedCrc) {
      this.#drop();
      throw invalid(
        `snapshot ${key} is corrupt: received bytes have CRC-32 ${
          hex(cur.crc)
        }, the sender's file ${hex(expectedCrc)}; transfer dropped`,
      );
    }
    fsyncSync(cur.fd);
    closeSync(cur.fd);
    this.#incoming = undefined;
    const file = this.newName(k.term, k.index).replace(/^snap-/, `recv-${k.from}-`);
    renameSync(cur.path, this.path(file));
    // The rename is durable only once the directory is: Raft persists the descriptor next.
    fsyncDir(this.dir);
    return { file, bytes: totalBytes, crc: cur.crc };
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

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}
