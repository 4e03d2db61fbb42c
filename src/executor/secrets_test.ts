// Proves job secrets: `${env:TOCK_SECRET_*}` and `${file:/path}` references resolve on the node at
// run time; their values are redacted from streamed output (also when split across chunks), the
// tail and the error; bad references are refused at create time; and `su` to another user is
// refused with a clear message when the agent is not root.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Prng } from "../lib/mod.ts";
import { suRefusal } from "./_shell.ts";
import { executorRegistry } from "./mod.ts";
import { checkSecretRefs, Redactor, resolveSecrets, type SecretSource } from "./secrets.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-secrets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = (env: Record<string, string>): SecretSource => ({
  env: (n) => env[n],
  allEnvSecrets: () => Object.values(env),
  readFile: () => {
    throw new Error("no such file");
  },
});

describe("secret references", () => {
  test("env and file references resolve; the values are returned for redaction", () => {
    const file = join(dir, "pw");
    writeFileSync(file, "file-secret\n");
    const r = resolveSecrets(
      { command: "login ${env:TOCK_SECRET_USER} ${file:" + file + "}", cwd: "/tmp" },
      {
        env: (n) => (n === "TOCK_SECRET_USER" ? "alice-secret" : undefined),
        readFile: (p) => readFileSync(p, "utf8"),
        allEnvSecrets: () => [],
      },
    );
    expect(r.config).toEqual({ command: "login alice-secret file-secret", cwd: "/tmp" });
    expect(r.values.sort()).toEqual(["alice-secret", "file-secret"]);
  });

  test("a missing variable or unreadable file fails the run naming the reference", () => {
    expect(() => resolveSecrets({ command: "${env:TOCK_SECRET_NOPE}" }, source({}))).toThrow(
      "secret ${env:TOCK_SECRET_NOPE} of executor_config.command: not set on this node",
    );
    expect(() => resolveSecrets({ env: "A=${file:/nope}" }, source({}))).toThrow(
      "secret ${file:/nope} of executor_config.env: cannot read it on this node: no such file",
    );
  });

  test("create-time checks: only TOCK_SECRET_* variables, absolute files, known schemes", () => {
    expect(checkSecretRefs({ command: "echo ${env:TOCK_SECRET_A1}" })).toBeUndefined();
    expect(checkSecretRefs({ command: "echo ${env:HOME}" })).toContain(
      "must name a variable TOCK_SECRET_*",
    );
    expect(checkSecretRefs({ command: "cat ${file:relative}" })).toContain("absolute path");
    expect(checkSecretRefs({ command: "${vault:x}" })).toContain(
      "unknown secret reference ${vault:...}",
    );
    expect(executorRegistry().get("shell")?.validate({ command: "echo ${env:PATH}" })).toContain(
      "TOCK_SECRET_",
    );
  });
});

describe("Redactor", () => {
  test("a secret split across chunks at any point never comes out", () => {
    const secret = "s3cr3t-v4lue";
    const text = `before ${secret} middle ${secret}${secret} end s3cr3 partial`;
    const bytes = new TextEncoder().encode(text);
    const rng = new Prng(7);
    for (let round = 0; round < 300; round++) {
      const r = new Redactor([secret, "s3cr3t"]);
      let out = "";
      for (let at = 0; at < bytes.length;) {
        const n = 1 + (rng.nextU32() % 6);
        out += new TextDecoder().decode(r.push(bytes.subarray(at, at + n)));
        at += n;
      }
      out += new TextDecoder().decode(r.flush());
      expect(out).toBe("before [redacted] middle [redacted][redacted] end s3cr3 partial");
    }
  });
});

describe("secrets through the shell executor", () => {
  test("the command sees the value; output, tail and error show [redacted]", async () => {
    process.env.TOCK_SECRET_UNIT = "hunter2-unit";
    try {
      const shell = executorRegistry().get("shell")!;
      const config = {
        command: "/bin/sh -c 'echo pw=$PW; echo $PW >&2; exit 3'",
        env: "PW=${env:TOCK_SECRET_UNIT}",
      };
      let text = "";
      const r = await shell.run({
        executionId: "e1",
        jobName: "j",
        executor: "shell",
        config,
        signal: new AbortController().signal,
        outputBytesMax: 256_000,
        onOutput: (c) => (text += new TextDecoder().decode(c)),
      });
      expect(text).not.toContain("hunter2-unit");
      expect(text).toContain("pw=[redacted]");
      expect(new TextDecoder().decode(r.tail)).not.toContain("hunter2-unit");
      expect(r).toMatchObject({ success: false, exitCode: 3 });
      expect(config.env).toBe("PW=${env:TOCK_SECRET_UNIT}");
    } finally {
      delete process.env.TOCK_SECRET_UNIT;
    }
  });
});

describe("the agent's own secrets", () => {
  test("jobs do not inherit TOCK_SECRET_* or TOCK_TOKEN; a value printed anyway is redacted", async () => {
    process.env.TOCK_SECRET_HIDDEN = "never-inherited-1";
    process.env.TOCK_TOKEN = "agent-token-value";
    const secretFile = join(dir, "leak");
    writeFileSync(secretFile, "never-inherited-1 and agent-token-value\n");
    try {
      const shell = executorRegistry().get("shell")!;
      let text = "";
      const r = await shell.run({
        executionId: "e2",
        jobName: "j",
        executor: "shell",
        // No reference: the job tries to read them from its environment, then prints them from
        // a file it found some other way.
        config: {
          command: `/bin/sh -c 'echo env=[$TOCK_SECRET_HIDDEN][$TOCK_TOKEN]; cat ${secretFile}'`,
        },
        signal: new AbortController().signal,
        outputBytesMax: 256_000,
        onOutput: (c) => (text += new TextDecoder().decode(c)),
      });
      expect(r.success).toBe(true);
      expect(text).toBe("env=[][]\n[redacted] and [redacted]\n");
    } finally {
      delete process.env.TOCK_SECRET_HIDDEN;
      delete process.env.TOCK_TOKEN;
    }
  });
});

describe("su", () => {
  test("a non-root agent is refused switching user, with the ids named", () => {
    expect(suRefusal("nobody", { uid: 65534, gid: 65534 }, { uid: 1000, gid: 1000 })).toBe(
      'shell: su "nobody" cannot be honoured: switching to uid 65534 gid 65534 needs the agent to ' +
        "run as root, and it runs as uid 1000 gid 1000; run the agent as root or remove su from the job",
    );
    expect(suRefusal("me", { uid: 1000, gid: 1000 }, { uid: 1000, gid: 1000 })).toBeUndefined();
    expect(suRefusal("nobody", { uid: 65534, gid: 65534 }, { uid: 0, gid: 0 })).toBeUndefined();
  });
});
