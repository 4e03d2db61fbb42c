// Proves the redis executor against the real Redis on 127.0.0.1:6379 (.ci/run starts it):
// commands split like a shell line, replies as output, error replies, a server that is down,
// wrong credentials, abort, and config validation naming the problem.
import { describe, expect, test } from "bun:test";
import * as net from "node:net";
import { redisExecutor } from "./_redis.ts";
import { ownConnectionsTo, runExecutor } from "../../test/support/executors.ts";
import { until } from "../../test/support/proc.ts";

const url = "redis://127.0.0.1:6379/0";
const key = `tock-test-${process.pid}-${Date.now()}`;

/** A port with nothing listening: bound, closed, and not reused before the test runs. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("redis executor", () => {
  test("runs a command split like a shell line and prints the reply", async () => {
    const set = await runExecutor(redisExecutor, { url, command: `SET ${key} "hello world"` });
    expect(set.error).toBe("");
    expect(set.success).toBe(true);
    expect(set.output).toBe("OK\n");
    const get = await runExecutor(redisExecutor, { url, command: `GET ${key}` });
    expect(get.output).toBe("hello world\n");
    const list = await runExecutor(redisExecutor, { url, command: `RPUSH ${key}-l a b` });
    expect(list.output).toBe("2\n");
    const range = await runExecutor(redisExecutor, { url, command: `LRANGE ${key}-l 0 -1` });
    expect(range.output).toBe("a\nb\n");
    await runExecutor(redisExecutor, { url, command: `DEL ${key} ${key}-l` });
  });

  test("an error reply fails the run with Redis's message", async () => {
    await runExecutor(redisExecutor, { url, command: `SET ${key}-s text` });
    const r = await runExecutor(redisExecutor, { url, command: `INCR ${key}-s` });
    expect(r.success).toBe(false);
    expect(r.error).toContain("redis: INCR failed: ERR value is not an integer");
    await runExecutor(redisExecutor, { url, command: `DEL ${key}-s` });
  });

  test("a server that is down fails the run naming the connection error", async () => {
    const port = await deadPort();
    const r = await runExecutor(redisExecutor, {
      url: `redis://127.0.0.1:${port}`,
      command: "PING",
    });
    expect(r.success).toBe(false);
    expect(r.error).toContain(`cannot connect to redis://127.0.0.1:${port}`);
    expect(r.error).toContain("ECONNREFUSED");
  });

  test("wrong credentials fail the run with the server's refusal, password redacted", async () => {
    const r = await runExecutor(redisExecutor, {
      url: "redis://nosuchuser:secret@127.0.0.1:6379",
      command: "PING",
    });
    expect(r.success).toBe(false);
    expect(r.error).toContain("WRONGPASS");
    expect(r.error).not.toContain("secret");
  });

  test("a blocking command ends at the run's timeout with a reason", async () => {
    const r = await runExecutor(redisExecutor, {
      url,
      command: `BLPOP ${key}-never 0`,
      timeout: "1",
    });
    expect(r.success).toBe(false);
    expect(r.error).toBe("redis: timed out after 1s");
  });

  test("aborting the run ends a blocking command", async () => {
    const abort = new AbortController();
    const running = runExecutor(redisExecutor, { url, command: `BLPOP ${key}-never 0` }, {
      signal: abort.signal,
    });
    setTimeout(() => abort.abort(), 50);
    const r = await running;
    expect(r.success).toBe(false);
    expect(r.error).toBe("redis: execution aborted");
  });

  test("no connection of this process is left open after the runs", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await runExecutor(redisExecutor, { url, command: "PING" });
      expect(r.error).toBe("");
    }
    await until(
      "no established connection to port 6379",
      () => (ownConnectionsTo(6379) === 0 ? true : undefined),
      10_000,
    );
  }, 20_000);

  test("validate names the missing or bad key", () => {
    expect(redisExecutor.validate({ command: "PING" })).toBe("redis: url is empty");
    expect(redisExecutor.validate({ url })).toBe("redis: command is empty");
    expect(redisExecutor.validate({ url: "http://x", command: "PING" })).toContain(
      "must start with redis://",
    );
    expect(redisExecutor.validate({ url, command: "GET 'open" })).toContain(
      "unterminated single quote",
    );
    expect(redisExecutor.validate({ url, command: "PING", db: "1" })).toContain(
      'unknown key "db"',
    );
    expect(redisExecutor.validate({ url, command: "PING", timeout: "soon" })).toContain(
      'timeout "soon"',
    );
    expect(redisExecutor.validate({ url, command: "PING" })).toBeUndefined();
  });
});
