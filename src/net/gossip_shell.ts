/**
 * The IO shell around a GossipCore: UDP datagrams through node:dgram, push-pull frames over TCP
 * through node:net (both work on Bun and Deno), ticks from a clock. Order per turn: feed input
 * (datagram, frame or elapsed ticks) → take the core's output → send → deliver events. The
 * core, the sockets and the clock are parameters, so tests can pass their own.
 */
import { Buffer } from "node:buffer";
import type { RemoteInfo, Socket as UdpSocket } from "node:dgram";
import { connect, type Server, type Socket as TcpSocket } from "node:net";
import { encodePacket, type GossipCore, type GossipEvent, type QueryEvent } from "../gossip/mod.ts";
import { type Clock, errorMessage, limits, systemClock } from "../lib/mod.ts";
import { encryptionOverheadBytes, type Keyring } from "./keyring.ts";
import { type FrameSecurity, openFrame, sealFrame } from "./packet.ts";

/** Ticks replayed at most per timer turn after a stall (e.g. SIGSTOP): 60 s of 10 ms ticks. */
const catchUpTicksMax = 6000;
/** Push-pull connections served at once (memberlist maxPushPulls); more are refused, counted. */
const streamsInMax = 128;
/** Bytes of a stream frame on the wire: frame limit + label header + encryption. */
const streamWireBytesMax = limits.gossipStreamBytesMax + 2 + limits.gossipLabelBytesMax +
  encryptionOverheadBytes;

export function splitAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(":");
  const host = addr.slice(0, i).replace(/^\[|\]$/g, "");
  return { host, port: Number(addr.slice(i + 1)) };
}

export interface ShellOptions {
  core: GossipCore;
  udp: UdpSocket;
  /** Listening TCP server for push-pull (same port as UDP); optional in tests. */
  tcp?: Server;
  clock?: Clock;
  security?: FrameSecurity;
}

/** Counters of the shell's own drops (the core counts the rest in core.stats). */
export interface ShellStats {
  /** Frames refused by label or decryption checks. */
  rejected: number;
  sendErrors: number;
  streamsOut: number;
  streamsIn: number;
  /** Inbound push-pull connections refused because streamsInMax were open. */
  streamsRefused: number;
  bytesOut: number;
  /** Largest datagram sent, bytes (never above gossipPacketBytesMax). */
  datagramBytesMax: number;
}

export class GossipShell {
  readonly core: GossipCore;
  readonly stats: ShellStats = {
    rejected: 0,
    sendErrors: 0,
    streamsOut: 0,
    streamsIn: 0,
    streamsRefused: 0,
    bytesOut: 0,
    datagramBytesMax: 0,
  };
  readonly #udp: UdpSocket;
  readonly #tcp: Server | undefined;
  readonly #clock: Clock;
  readonly #security: FrameSecurity;
  #listeners = new Set<(e: GossipEvent) => void>();
  #queryListeners = new Set<(e: QueryEvent) => void>();
  #stopTimer: (() => void) | undefined;
  #lastTickAt = 0;
  #stopped = false;
  #streamsOpen = 0;

  constructor(o: ShellOptions) {
    this.core = o.core;
    this.#udp = o.udp;
    this.#tcp = o.tcp;
    this.#clock = o.clock ?? systemClock();
    this.#security = o.security ?? {};
  }

  /** Subscribes to member and user events; returns the unsubscribe function. */
  onEvent(fn: (e: GossipEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Subscribes to query traffic (queries to answer, answers to ours); returns the unsubscribe. */
  onQuery(fn: (e: QueryEvent) => void): () => void {
    this.#queryListeners.add(fn);
    return () => this.#queryListeners.delete(fn);
  }

  /** The frame keyring (undefined: frames travel in plaintext). */
  get keyring(): Keyring | undefined {
    return this.#security.keyring;
  }

  start(): void {
    this.#udp.on("message", (buf: Uint8Array, rinfo: RemoteInfo) => this.#onDatagram(buf, rinfo));
    // ICMP port-unreachable from a dead peer surfaces as ECONNREFUSED: count it, never crash.
    this.#udp.on("error", () => this.stats.sendErrors++);
    this.#tcp?.on("error", () => this.stats.sendErrors++);
    this.#tcp?.on("connection", (s: TcpSocket) => this.#onConnection(s));
    this.#lastTickAt = this.#clock.monoMs();
    const tickMs = this.core.config.tickMs;
    this.#stopTimer = this.#clock.every(tickMs, () => this.#onTimer());
  }

  /** Leaves gracefully: announces "left", keeps gossiping for `graceMs`, then stops. */
  leave(graceMs = 1000): Promise<void> {
    this.core.leave();
    this.#flush();
    return new Promise((resolve) => {
      const stop = this.#clock.every(graceMs, () => {
        stop();
        this.stop();
        resolve();
      });
    });
  }

  /** Stops timers and closes sockets (no leave message: peers will detect a failure). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopTimer?.();
    try {
      this.#udp.close();
    } catch {
      // already closed
    }
    this.#tcp?.close();
  }

  #onTimer(): void {
    const tickMs = this.core.config.tickMs;
    const now = this.#clock.monoMs();
    let due = Math.floor((now - this.#lastTickAt) / tickMs);
    if (due <= 0) return;
    this.#lastTickAt += due * tickMs;
    if (due > catchUpTicksMax) due = catchUpTicksMax;
    for (let i = 0; i < due; i++) this.core.tick();
    this.#flush();
  }

  #onDatagram(buf: Uint8Array, rinfo: RemoteInfo): void {
    if (this.#stopped) return;
    const opened = openFrame(this.#security, new Uint8Array(buf));
    if (!opened.ok) {
      this.stats.rejected++;
      this.core.stats.rejected++;
      return;
    }
    const host = rinfo.family === "IPv6" ? `[${rinfo.address}]` : rinfo.address;
    this.core.receive(`${host}:${rinfo.port}`, opened.plain);
    this.#flush();
  }

  #onConnection(s: TcpSocket): void {
    if (this.#streamsOpen >= streamsInMax) {
      this.stats.streamsRefused++;
      s.destroy();
      return;
    }
    this.#streamsOpen++;
    s.on("close", () => this.#streamsOpen--);
    const chunks: Uint8Array[] = [];
    let size = 0;
    let want = -1;
    s.setTimeout(10_000, () => s.destroy());
    s.on("error", () => s.destroy());
    s.on("data", (chunk: Uint8Array) => {
      chunks.push(chunk);
      size += chunk.length;
      if (want < 0 && size >= 4) {
        const head = chunks.length === 1 ? chunk : Buffer.concat(chunks);
        want = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
        if (want > streamWireBytesMax) {
          this.core.stats.oversized++;
          s.destroy();
          return;
        }
      }
      if (want >= 0 && size >= 4 + want) {
        s.end();
        this.stats.streamsIn++;
        const all = Buffer.concat(chunks);
        const opened = openFrame(this.#security, all.subarray(4, 4 + want));
        if (!opened.ok) {
          this.stats.rejected++;
          this.core.stats.rejected++;
          return;
        }
        this.core.receiveStream(`${s.remoteAddress}:${s.remotePort}`, opened.plain);
        this.#flush();
      }
    });
  }

  #flush(): void {
    if (this.#stopped) return;
    const out = this.core.takeOutput();
    for (const p of out.packets) {
      const frame = sealFrame(this.#security, encodePacket(p.msgs));
      if (frame.length > limits.gossipPacketBytesMax) {
        // The core budgets below the limit; an overflow is a bug, but never send it.
        this.stats.sendErrors++;
        continue;
      }
      const { host, port } = splitAddr(p.to);
      this.stats.bytesOut += frame.length;
      this.stats.datagramBytesMax = Math.max(this.stats.datagramBytesMax, frame.length);
      this.#udp.send(frame, port, host, (err) => {
        if (err) this.stats.sendErrors++;
      });
    }
    for (const st of out.streams) this.#sendStream(st.to, encodePacket([st.msg]));
    for (const e of out.events) {
      for (const fn of this.#listeners) {
        try {
          fn(e);
        } catch (err) {
          console.error(`gossip event listener failed: ${errorMessage(err)}`);
        }
      }
    }
    for (const q of out.queries) {
      for (const fn of this.#queryListeners) {
        try {
          fn(q);
        } catch (err) {
          console.error(`gossip query listener failed: ${errorMessage(err)}`);
        }
      }
    }
  }

  #sendStream(to: string, plain: Uint8Array): void {
    const frame = sealFrame(this.#security, plain);
    const { host, port } = splitAddr(to);
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, frame.length);
    this.stats.streamsOut++;
    this.stats.bytesOut += frame.length + 4;
    const s = connect({ host, port });
    s.setTimeout(10_000, () => s.destroy());
    s.on("error", () => {
      this.stats.sendErrors++;
      s.destroy();
    });
    s.on("connect", () => {
      s.write(header);
      s.end(frame);
    });
  }
}
