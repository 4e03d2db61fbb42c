// Proves the output processors against real receivers started here: files on disk, RFC 5424
// syslog parsed from UDP, TCP and unix-socket listeners, and a Fluent forward-protocol receiver
// (msgpack decoded and acked over TCP). Also the chain: order, forward, failures skipped.
import { afterAll, describe, expect, test } from "bun:test";
import { Buffer } from "node:buffer";
import * as dgram from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeMultiStream, encode } from "@msgpack/msgpack";
import { processorRegistry, type ProcessorRun, runProcessors } from "./mod.ts";

const registry = processorRegistry();
const dir = mkdtempSync(join(tmpdir(), "tock-proc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(config: Record<string, string>, over: Partial<ProcessorRun> = {}): ProcessorRun {
  return {
    jobName: "job1",
    executionId: "1767225600000-1",
    nodeName: "node-a",
    success: true,
    startedAt: 1_767_225_600_000,
    finishedAt: 1_767_225_601_500,
    output: 'line one\nline "two"]',
    config,
    signal: new AbortController().signal,
    ...over,
  };
}

/** Parses one RFC 5424 message: PRI, version, timestamp, host, app, procid, msgid, SD, MSG. */
function parse5424(msg: Buffer) {
  const text = msg.toString("utf8");
  const m = /^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[(?:[^\]\\]|\\.)*\]) \uFEFF([\s\S]*)$/.exec(
    text,
  );
  if (!m) throw new Error(`not RFC 5424: ${JSON.stringify(text)}`);
  return {
    pri: Number(m[1]),
    timestamp: m[2],
    app: m[4],
    msgid: m[6],
    sd: m[7],
    msg: m[8],
  };
}

describe("log processor", () => {
  test("prints the output between BEGIN/END lines; not forwarding leaves a marker", async () => {
    const log = registry.get("log")!;
    const written: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (written.push(String(s)), true)) as typeof orig;
    let kept: string;
    try {
      kept = await log.process(run({}));
    } finally {
      process.stdout.write = orig;
    }
    expect(written.join("")).toBe(
      '----- BEGIN OUTPUT job=job1 execution=1767225600000-1 -----\nline one\nline "two"]\n----- END OUTPUT -----\n',
    );
    expect(kept).toBe("Output in tock log");
  });
});

describe("files processor", () => {
  test("writes <log_dir>/<job>_<id>.log (created, 0644) and keeps the path as output", async () => {
    const files = registry.get("files")!;
    const logDir = join(dir, "logs", "deeper");
    const kept = await files.process(run({ log_dir: logDir }));
    const path = join(logDir, "job1_1767225600000-1.log");
    expect(kept).toBe(path);
    expect(readFileSync(path, "utf8")).toBe('line one\nline "two"]');
    expect(statSync(path).mode & 0o777).toBe(0o644);
    const forwarded = await files.process(run({ log_dir: logDir, forward: "true" }));
    expect(forwarded).toBe('line one\nline "two"]');
  });

  test("validate refuses a relative log_dir and unknown keys", () => {
    const files = registry.get("files")!;
    expect(files.validate({ log_dir: "logs" })).toContain("is not an absolute path");
    expect(files.validate({ dir: "/x" })).toContain('unknown key "dir"');
    expect(files.validate({ forward: "yes" })).toContain('forward "yes" is not true or false');
    expect(files.validate({ log_dir: "/tmp", forward: "true" })).toBeUndefined();
  });
});

describe("syslog processor", () => {
  test("sends one RFC 5424 datagram over UDP", async () => {
    const sock = dgram.createSocket("udp4");
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    const got = new Promise<Buffer>((r) => sock.once("message", (m) => r(m)));
    const port = sock.address().port;
    const kept = await registry.get("syslog")!.process(
      run({ address: `udp://127.0.0.1:${port}` }, { success: false }),
    );
    const m = parse5424(await got);
    sock.close();
    expect(kept).toBe("Output in syslog");
    expect(m.pri).toBe(9 * 8 + 3); // cron.err for a failed run
    expect(m.timestamp).toBe("2026-01-01T00:00:01.500Z");
    expect(m.app).toBe("tock");
    expect(m.msgid).toBe("execution");
    expect(m.sd).toBe(
      '[tock@32473 job="job1" execution="1767225600000-1" node="node-a" success="false"]',
    );
    expect(m.msg).toBe('line one\nline "two"]');
  });

  for (const kind of ["tcp", "unix"] as const) {
    test(`sends an octet-counted RFC 5424 message over ${kind}`, async () => {
      let received = Buffer.alloc(0);
      let ended: () => void = () => {};
      const closed = new Promise<void>((resolve) => (ended = resolve));
      const server = net.createServer((s) => {
        s.on("data", (d: Buffer) => (received = Buffer.concat([received, d])));
        s.on("end", () => ended());
      });
      const path = join(dir, "syslog.sock");
      let address: string;
      if (kind === "tcp") {
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
        address = `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      } else {
        await new Promise<void>((r) => server.listen(path, () => r()));
        address = `unix://${path}`;
      }
      const kept = await registry.get("syslog")!.process(
        run({ address, forward: "true", facility: "local3", app_name: "myapp" }),
      );
      await closed;
      server.close();
      expect(kept).toBe('line one\nline "two"]');
      const space = received.indexOf(0x20);
      const len = Number(received.subarray(0, space).toString());
      const msg = received.subarray(space + 1);
      expect(msg.length).toBe(len);
      const m = parse5424(msg);
      expect(m.pri).toBe(19 * 8 + 6); // local3.info
      expect(m.app).toBe("myapp");
      expect(m.msg).toBe('line one\nline "two"]');
    });
  }

  test("a receiver that is down makes the processor fail with the address", async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    await expect(registry.get("syslog")!.process(run({ address: `tcp://127.0.0.1:${port}` })))
      .rejects.toThrow(`processor syslog: sending to tcp://127.0.0.1:${port} failed`);
  });

  test("validate names a bad address or facility", () => {
    const s = registry.get("syslog")!;
    expect(s.validate({ address: "127.0.0.1:514" })).toContain("is not udp://host:port");
    expect(s.validate({ facility: "cron2" })).toContain('facility "cron2"');
    expect(s.validate({ address: "unix:///dev/log", facility: "daemon" })).toBeUndefined();
  });
});

describe("fluent processor", () => {
  test("sends {host, job_name, message} over the forward protocol and waits for the ack", async () => {
    const records: unknown[] = [];
    const server = net.createServer((s) => {
      (async () => {
        for await (const msg of decodeMultiStream(s as unknown as AsyncIterable<Uint8Array>)) {
          // Message mode: [tag, time, record, {chunk}]; the ack echoes the chunk id.
          const [tag, _time, record, option] = msg as [
            string,
            unknown,
            unknown,
            { chunk?: string },
          ];
          records.push({ tag, record });
          if (option?.chunk) s.write(encode({ ack: option.chunk }));
        }
      })().catch(() => {});
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const kept = await registry.get("fluent")!.process(
      run({ host: "127.0.0.1", port: String(port), tag: "cron" }),
    );
    server.close();
    expect(kept).toBe("Output sent to Fluent");
    expect(records).toEqual([{
      tag: "cron",
      record: {
        host: "node-a",
        job_name: "job1",
        execution: "1767225600000-1",
        success: true,
        message: 'line one\nline "two"]',
      },
    }]);
  });

  test(
    "a receiver that resets the connection instead of acking fails the processor, not the node",
    async () => {
      const server = net.createServer((s) => {
        s.once("data", () => s.resetAndDestroy());
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
      const port = (server.address() as net.AddressInfo).port;
      const abort = new AbortController();
      const running = registry.get("fluent")!.process({
        ...run({ port: String(port) }),
        signal: abort.signal,
      });
      // Without an ack the emit would wait for the ack timeout; the chain aborts it at its limit.
      const timer = setTimeout(() => abort.abort(), 2_000);
      await expect(running).rejects.toThrow(
        `processor fluent: sending to 127.0.0.1:${port} failed`,
      );
      clearTimeout(timer);
      server.close();
    },
    20_000,
  );

  test("a receiver that is down makes the processor fail", async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    await expect(registry.get("fluent")!.process(run({ port: String(port) }))).rejects.toThrow(
      `processor fluent: sending to 127.0.0.1:${port} failed`,
    );
  }, 20_000);
});

describe("processor chain", () => {
  test("runs in the job's order, forwards, skips failures and unknown names", async () => {
    const logDir = join(dir, "chain");
    const down = net.createServer();
    await new Promise<void>((r) => down.listen(0, "127.0.0.1", () => r()));
    const port = (down.address() as net.AddressInfo).port;
    await new Promise<void>((r) => down.close(() => r()));
    const r = await runProcessors(
      registry,
      {
        Files: { log_dir: logDir, forward: "true" },
        syslog: { address: `tcp://127.0.0.1:${port}` },
        nosuch: {},
        webhook: { url: "http://127.0.0.1:1/" }, // a notification: not an output processor
        files: { log_dir: logDir },
      },
      { ...run({}), success: true },
      "leader-1",
    );
    expect(r.output).toBe(join(logDir, "job1_1767225600000-1.log"));
    expect(r.problems).toHaveLength(2);
    expect(r.problems[0]).toContain("processor syslog: sending to");
    expect(r.problems[1]).toBe('processor "nosuch" is not present on node node-a; skipped');
  });
});
