/**
 * The syslog processor (Dkron's dkron-processor-syslog), sending one RFC 5424 message per run.
 * Keys: `forward`; Tock's: `address` — udp://host:port (default udp://127.0.0.1:514),
 * tcp://host:port, or unix:///path (a stream socket); `facility` (default cron), `app_name`
 * (default tock). Severity is info on success, err on failure.
 *
 * Framing: UDP is one datagram per message (RFC 5426); TCP and unix streams use octet counting
 * ("LEN SP MSG", RFC 6587 §3.4.1), which rsyslog, syslog-ng and fluent-bit read. Written here
 * on node:dgram/node:net: the npm syslog clients lack RFC 5424 stream framing or unix sockets
 * and are unmaintained, and a message line is a few lines of formatting. Node has no unix
 * datagram sockets, so a /dev/log that is SOCK_DGRAM cannot be used: point `address` at a
 * daemon's UDP, TCP or unix stream input.
 */
import * as dgram from "node:dgram";
import * as net from "node:net";
import { hostname } from "node:os";
import process from "node:process";
import { limits } from "../lib/mod.ts";
import { checkKeys, forwards } from "./_forward.ts";
import type { Processor, ProcessorRun } from "./_types.ts";

const facilities: Record<string, number> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

type Target = { kind: "udp" | "tcp"; host: string; port: number } | { kind: "unix"; path: string };

function parseAddress(address: string): Target {
  const unix = /^unix:\/\/(\/.+)$/.exec(address);
  if (unix) return { kind: "unix", path: unix[1] as string };
  const m = /^(udp|tcp):\/\/(\[[0-9a-fA-F:]+\]|[^:/\s]+):(\d{1,5})$/.exec(address);
  if (!m || Number(m[3]) > 65535) {
    throw new Error(
      `processor syslog: address "${address}" is not udp://host:port, tcp://host:port or unix:///path`,
    );
  }
  return {
    kind: m[1] as "udp" | "tcp",
    host: (m[2] as string).replace(/^\[|\]$/g, ""),
    port: Number(m[3]),
  };
}

/** RFC 5424 PARAM-VALUE escaping: ", \ and ] are escaped with a backslash. */
const sdValue = (s: string) => s.replace(/["\\\]]/g, (c) => `\\${c}`);
/** RFC 5424 header fields are printable ASCII without spaces; "-" when empty. */
const headerField = (s: string, max: number) =>
  s.replace(/[^\x21-\x7e]/g, "_").slice(0, max) || "-";

/** One RFC 5424 message for a run (without transport framing). */
export function formatSyslog(run: ProcessorRun, facility: number, appName: string): Uint8Array {
  const severity = run.success ? 6 : 3;
  const sd = `[tock@32473 job="${sdValue(run.jobName)}" execution="${sdValue(run.executionId)}" ` +
    `node="${sdValue(run.nodeName)}" success="${run.success}"]`;
  const header = `<${facility * 8 + severity}>1 ${new Date(run.finishedAt).toISOString()} ` +
    `${headerField(hostname(), 255)} ${headerField(appName, 48)} ${process.pid} execution ${sd} `;
  const enc = new TextEncoder();
  const head = enc.encode(header);
  const room = limits.syslogMessageBytesMax - head.length - 3;
  let body = enc.encode(run.output);
  if (body.length > room) body = body.subarray(0, Math.max(0, room));
  // The BOM marks MSG as UTF-8 (RFC 5424 §6.4).
  const out = new Uint8Array(head.length + 3 + body.length);
  out.set(head, 0);
  out.set([0xef, 0xbb, 0xbf], head.length);
  out.set(body, head.length + 3);
  return out;
}

function sendUdp(t: { host: string; port: number }, msg: Uint8Array, signal: AbortSignal) {
  return new Promise<void>((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(t.host) ? "udp6" : "udp4");
    const done = (e?: Error | null) => {
      sock.close();
      if (e) reject(e);
      else resolve();
    };
    signal.addEventListener("abort", () => done(new Error("timed out")), { once: true });
    sock.on("error", done);
    sock.send(msg, t.port, t.host, (e) => done(e));
  });
}

function sendStream(t: Target, msg: Uint8Array, signal: AbortSignal) {
  return new Promise<void>((resolve, reject) => {
    const sock = t.kind === "unix"
      ? net.connect({ path: t.path })
      : net.connect({ host: t.host, port: t.port });
    let settled = false;
    const done = (e?: Error) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      if (e) reject(e);
      else resolve();
    };
    signal.addEventListener("abort", () => done(new Error("timed out")), { once: true });
    sock.on("error", done);
    sock.on("connect", () => {
      const len = new TextEncoder().encode(`${msg.length} `);
      sock.write(len);
      sock.end(msg, () => done());
    });
  });
}

export const syslogProcessor: Processor = {
  name: "syslog",
  validate(config) {
    const bad = checkKeys(config, ["address", "facility", "app_name"], "syslog");
    if (bad) return bad;
    try {
      parseAddress(config.address || "udp://127.0.0.1:514");
    } catch (e) {
      return (e as Error).message;
    }
    if (config.facility && facilities[config.facility] === undefined) {
      return `processor syslog: facility "${config.facility}" is not one of ${
        Object.keys(facilities).join(", ")
      }`;
    }
    return undefined;
  },
  async process(run) {
    const target = parseAddress(run.config.address || "udp://127.0.0.1:514");
    const facility = facilities[run.config.facility || "cron"] ?? 9;
    const msg = formatSyslog(run, facility, run.config.app_name || "tock");
    try {
      if (target.kind === "udp") await sendUdp(target, msg, run.signal);
      else await sendStream(target, msg, run.signal);
    } catch (e) {
      throw new Error(
        `processor syslog: sending to ${run.config.address || "udp://127.0.0.1:514"} failed: ${
          (e as Error).message
        }`,
      );
    }
    return forwards(run.config) ? run.output : "Output in syslog";
  },
};
