// Proves notifications against real receivers started here: a node:http webhook endpoint and an
// SMTP server (smtp-server) that nodemailer talks to. Retries run on a FakeClock: the test moves
// time past each backoff instead of sleeping. Also the when rules and config checks.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { FakeClock, limits } from "../lib/mod.ts";
import { until } from "../../test/support/proc.ts";
import {
  type FinishedRun,
  Notifier,
  parseNotifyConfig,
  shouldNotify,
  validateNotification,
} from "./mod.ts";

interface Hit {
  path: string;
  body: string;
  headers: http.IncomingHttpHeaders;
}
const hits: Hit[] = [];
let failNext = 0;
let hook: http.Server;
let hookUrl = "";

interface Mail {
  from: string;
  to: string[];
  data: string;
  user: string | undefined;
}
const mails: Mail[] = [];
let smtp: SMTPServer;
let smtpPort = 0;

beforeAll(async () => {
  hook = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      hits.push({ path: req.url ?? "", body, headers: req.headers });
      if (failNext > 0) {
        failNext--;
        res.writeHead(503).end("busy");
      } else res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", () => r()));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
  smtp = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authOptional: true,
    onAuth(auth, _session, cb) {
      if (auth.username === "tock" && auth.password === "secret") cb(null, { user: "tock" });
      else cb(new Error("bad credentials"));
    },
    onData(stream, session, cb) {
      let data = "";
      stream.on("data", (d: Buffer) => (data += d.toString()));
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
          user: session.user as string | undefined,
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", () => r()));
  smtpPort = (smtp.server.address() as AddressInfo).port;
});

afterAll(async () => {
  hook.close();
  await new Promise<void>((r) => smtp.close(() => r()));
});

function finished(over: Partial<FinishedRun> = {}): FinishedRun {
  return {
    jobName: "backup",
    reportingNode: "node-a",
    nodeName: "node-a",
    startedAt: 1_767_225_600_000,
    finishedAt: 1_767_225_601_250,
    success: false,
    output: 'disk "full"\n',
    executionId: "1767225600000-1",
    group: 1_767_225_600_000,
    ownerEmail: "",
    processors: {},
    previousSuccess: true,
    ...over,
  };
}

const logs: string[] = [];
function notifier(raw: Record<string, unknown>, clock = new FakeClock(1_767_225_700_000)) {
  return {
    clock,
    n: new Notifier({
      clock,
      config: parseNotifyConfig(raw),
      nodeName: "node-a",
      log: (l) => logs.push(l),
    }),
  };
}

describe("webhook notification", () => {
  test("posts the rendered payload with rendered headers", async () => {
    hits.length = 0;
    const { n } = notifier({
      "webhook-endpoint": `${hookUrl}/hook`,
      "webhook-payload": '{"text": {{json .Output}}, "job": "{{.JobName}}", "ok": {{.Success}}}',
      "webhook-headers": ["Content-Type: application/json", "X-Job: {{.JobName}}"],
    });
    n.finished(finished());
    await until("the webhook to arrive", () => (n.pending === 0 ? true : undefined));
    expect(hits).toHaveLength(1);
    const h = hits[0]!;
    expect(h.path).toBe("/hook");
    expect(JSON.parse(h.body)).toEqual({ text: 'disk "full"\n', job: "backup", ok: false });
    expect(h.headers["content-type"]).toBe("application/json");
    expect(h.headers["x-job"]).toBe("backup");
  }, 30_000);

  test(
    "a failing endpoint is retried on the clock with a doubling delay, then given up",
    async () => {
      hits.length = 0;
      failNext = 100;
      const { n, clock } = notifier({
        "webhook-endpoint": `${hookUrl}/down`,
        "webhook-payload": "{{.Report}}",
      });
      n.finished(finished());
      for (let attempt = 1; attempt < limits.webhookAttemptsMax; attempt++) {
        await until(
          `attempt ${attempt} to fail`,
          // The log line is written when the retry timer is set.
          () =>
            logs.some((l) => l.includes("/down") && l.includes(`attempt ${attempt} failed`))
              ? true
              : undefined,
        );
        // Not retried before its backoff has passed.
        clock.advance(limits.webhookRetryDelayMs * 2 ** (attempt - 1) - 1);
        expect(hits).toHaveLength(attempt);
        clock.advance(1);
      }
      await until("the last attempt to be given up", () => (n.pending === 0 ? true : undefined));
      expect(hits).toHaveLength(limits.webhookAttemptsMax);
      expect(n.abandoned).toBe(1);
      expect(logs.at(-1)).toContain(
        `failed after ${limits.webhookAttemptsMax} attempt(s), given up: ${hookUrl}/down answered 503`,
      );
      failNext = 0;
    },
    30_000,
  );

  test("a retry that then succeeds is delivered once", async () => {
    hits.length = 0;
    failNext = 1;
    const { n, clock } = notifier({
      "webhook-endpoint": `${hookUrl}/flaky`,
      "webhook-payload": "{{.JobName}}",
    });
    n.finished(finished());
    await until(
      "the first attempt to fail",
      () =>
        logs.some((l) => l.includes("/flaky") && l.includes("attempt 1 failed")) ? true : undefined,
    );
    clock.advance(limits.webhookRetryDelayMs);
    await until("the retry to be delivered", () => (n.pending === 0 ? true : undefined));
    expect(hits.map((h) => h.body)).toEqual(["backup", "backup"]);
    expect(n.delivered).toBe(1);
  }, 30_000);

  test("per-job webhooks follow their own when; the pre-webhook fires at start", async () => {
    hits.length = 0;
    const { n } = notifier({
      "pre-webhook-endpoint": `${hookUrl}/pre`,
      "pre-webhook-payload": "starting {{.JobName}}",
    });
    n.started({
      jobName: "backup",
      reportingNode: "node-a",
      nodeName: "node-a",
      startedAt: 1,
      executionId: "1-1",
      group: 1,
    });
    const processors = {
      Webhook: { url: `${hookUrl}/job`, payload: "{{.JobName}} {{.Success}}", when: "change" },
    };
    n.finished(finished({ success: true, previousSuccess: true, processors })); // no change
    n.finished(finished({ success: false, previousSuccess: true, processors })); // change
    await until("deliveries", () => (n.pending === 0 ? true : undefined));
    expect(hits.map((h) => `${h.path} ${h.body}`).sort()).toEqual([
      "/job backup false",
      "/pre starting backup",
    ]);
  }, 30_000);
});

describe("mail notification", () => {
  test(
    "mails the owner over SMTP with Dkron's subject, authenticating when configured",
    async () => {
      mails.length = 0;
      const { n } = notifier({
        "mail-host": "127.0.0.1",
        "mail-port": String(smtpPort),
        "mail-username": "tock",
        "mail-password": "secret",
        "mail-from": "cron@example.test",
        "mail-subject-prefix": "[Test]",
      });
      n.finished(finished({ ownerEmail: "owner@example.test", success: true }));
      await until("the mail to arrive", () => (n.pending === 0 ? true : undefined), 20_000);
      expect(mails).toHaveLength(1);
      const m = mails[0]!;
      expect(m.from).toBe("cron@example.test");
      expect(m.to).toEqual(["owner@example.test"]);
      expect(m.user).toBe("tock");
      expect(m.data).toContain("Subject: [Test]Success backup execution report");
      expect(m.data).toContain('disk "full"'); // no mail-payload: the raw output is the body
    },
    30_000,
  );

  test(
    "a job's mail entry sends to its own list with its payload; wrong credentials fail the attempt, which waits for its retry",
    async () => {
      mails.length = 0;
      const { n } = notifier({
        "mail-host": "127.0.0.1",
        "mail-port": String(smtpPort),
        "mail-from": "cron@example.test",
      });
      n.finished(finished({
        processors: { mail: { to: "a@example.test,b@example.test", payload: "Job {{.JobName}}" } },
      }));
      await until("the mail to arrive", () => (n.pending === 0 ? true : undefined), 20_000);
      expect(mails[0]?.to).toEqual(["a@example.test", "b@example.test"]);
      expect(mails[0]?.data).toContain("Subject: [Tock]Failed backup execution report");
      expect(mails[0]?.data).toContain("Job backup");

      const bad = notifier({
        "mail-host": "127.0.0.1",
        "mail-port": String(smtpPort),
        "mail-username": "tock",
        "mail-password": "wrong",
        "mail-from": "cron@example.test",
      });
      bad.n.finished(finished({ ownerEmail: "owner@example.test" }));
      const failedOnce = (l: string) =>
        l.includes("mail for backup/1767225600000-1 attempt 1 failed") &&
        l.includes("nvalid login");
      await until(
        "the first attempt to fail",
        () => logs.some(failedOnce) ? true : undefined,
        20_000,
      );
      expect(bad.n.pending).toBe(1); // waiting for its retry, not lost
      bad.n.stop();
    },
    30_000,
  );
});

describe("when and config", () => {
  test("failure, change and always", () => {
    expect(shouldNotify("always", true, true)).toBe(true);
    expect(shouldNotify("failure", true, false)).toBe(false);
    expect(shouldNotify("failure", false, false)).toBe(true);
    expect(shouldNotify("change", false, false)).toBe(false);
    expect(shouldNotify("change", true, false)).toBe(true);
    expect(shouldNotify("change", false, undefined)).toBe(true); // first run failed
    expect(shouldNotify("change", true, undefined)).toBe(false);
  });

  test("config errors name the key", () => {
    expect(() => parseNotifyConfig({ "notify-when": "sometimes" })).toThrow(
      'notify-when "sometimes"',
    );
    expect(() => parseNotifyConfig({ "webhook-endpoint": "ftp://x", "webhook-payload": "p" }))
      .toThrow('webhook-endpoint "ftp://x" is not an http(s) URL');
    expect(() => parseNotifyConfig({ "webhook-payload": "{{.Nope}}" })).toThrow(
      "webhook-payload: template action {{.Nope}}",
    );
    expect(() => parseNotifyConfig({ "mail-port": "99999" })).toThrow('mail-port "99999"');
    expect(() => parseNotifyConfig({ "webhook-headers": ["NoColon"] })).toThrow("webhook-headers");
    // Dkron's rule: no webhook without both an endpoint and a payload.
    expect(parseNotifyConfig({ "webhook-endpoint": hookUrl }).webhook).toBeUndefined();
  });

  test("per-job entries are checked at create", () => {
    expect(validateNotification("webhook", { url: "nope" }, false)).toContain(
      "is not an http(s) URL",
    );
    expect(validateNotification("webhook", { url: hookUrl, when: "weekly" }, false)).toContain(
      'when "weekly"',
    );
    expect(validateNotification("webhook", { url: hookUrl, retries: "3" }, false)).toContain(
      'unknown key "retries"',
    );
    expect(validateNotification("mail", { to: "a@b.c" }, false)).toContain("no mail-host");
    expect(validateNotification("mail", { to: "not-an-address" }, true)).toContain(
      "is not an address",
    );
    expect(validateNotification("mail", { to: "a@b.c", when: "failure" }, true)).toBeUndefined();
  });
});
