/**
 * Datagram and stream framing around the core's plaintext: an optional cluster label header
 * (memberlist: byte 244, length, label), then the payload, sealed with the keyring when one is
 * set. openFrame never throws; it says why a frame was rejected.
 */
import { limits } from "../lib/mod.ts";
import type { Keyring } from "./keyring.ts";

export const labelMarker = 244;
const utf8 = new TextEncoder();

export interface FrameSecurity {
  /** Cluster label: frames from another (or no) label are rejected, so clusters never merge. */
  label?: string;
  /** With a keyring, every frame is sealed, and plaintext frames are rejected. */
  keyring?: Keyring;
}

export type Opened = { ok: true; plain: Uint8Array } | { ok: false; reason: string };

function labelBytes(sec: FrameSecurity): Uint8Array {
  const l = utf8.encode(sec.label ?? "");
  if (l.length > limits.gossipLabelBytesMax) {
    throw new Error(`gossip label longer than ${limits.gossipLabelBytesMax} bytes`);
  }
  return l;
}

/** Label header + (sealed) payload. */
export function sealFrame(sec: FrameSecurity, plain: Uint8Array): Uint8Array {
  const label = labelBytes(sec);
  const body = sec.keyring !== undefined && sec.keyring.size > 0
    ? sec.keyring.encrypt(plain, label)
    : plain;
  if (label.length === 0) return body;
  const out = new Uint8Array(2 + label.length + body.length);
  out[0] = labelMarker;
  out[1] = label.length;
  out.set(label, 2);
  out.set(body, 2 + label.length);
  return out;
}

/** Checks the label and decrypts; returns the plaintext or the reason for rejection. */
export function openFrame(sec: FrameSecurity, frame: Uint8Array): Opened {
  const want = labelBytes(sec);
  let body = frame;
  if (frame[0] === labelMarker) {
    const len = frame[1];
    if (len === undefined || frame.length < 2 + len) {
      return { ok: false, reason: "truncated label" };
    }
    const got = frame.subarray(2, 2 + len);
    if (got.length !== want.length || !got.every((b, i) => b === want[i])) {
      return { ok: false, reason: "label mismatch" };
    }
    body = frame.subarray(2 + len);
  } else if (want.length > 0) {
    return { ok: false, reason: "missing label" };
  }
  if (sec.keyring !== undefined && sec.keyring.size > 0) {
    const plain = sec.keyring.decrypt(body, want);
    if (plain === undefined) {
      return { ok: false, reason: "decryption failed (wrong key or plaintext)" };
    }
    return { ok: true, plain };
  }
  return { ok: true, plain: body };
}
