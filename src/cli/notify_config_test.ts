// Proves the issue-12 agent keys (plugin-dir, webhook-*, mail-*, pre-webhook-*, notify-when)
// arrive from a config file, TOCK_* env and flags, and that a bad one names its source.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readConfigFile, readEnv, resolveConfig } from "./config.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-notify-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("notification and plugin keys", () => {
  test("a YAML file's webhook and mail settings become the node's notify config", () => {
    const p = join(dir, "tock.yaml");
    writeFileSync(
      p,
      [
        "plugin-dir: /opt/tock/plugins",
        "webhook-endpoint: https://hooks.example.test/x",
        'webhook-payload: "{\\"text\\": {{json .Report}}}"',
        'webhook-headers: ["Content-Type: application/json"]',
        "mail-host: smtp.example.test",
        "mail-port: 587",
        "mail-from: cron@example.test",
        "notify-when: change",
      ].join("\n"),
    );
    const c = resolveConfig(readConfigFile(p).raw);
    expect(c.pluginDir).toBe("/opt/tock/plugins");
    expect(c.notify.when).toBe("change");
    expect(c.notify.webhook).toEqual({
      url: "https://hooks.example.test/x",
      payload: '{"text": {{json .Report}}}',
      headers: [["Content-Type", "application/json"]],
    });
    expect(c.notify.mail).toMatchObject({
      host: "smtp.example.test",
      port: 587,
      subjectPrefix: "[Tock]",
    });
  });

  test("env TOCK_WEBHOOK_ENDPOINT and friends are read; flags win", () => {
    const env: Record<string, string> = {
      TOCK_WEBHOOK_ENDPOINT: "http://env.example.test/",
      TOCK_WEBHOOK_PAYLOAD: "{{.JobName}}",
      TOCK_PLUGIN_DIR: "/env/plugins",
    };
    const c = resolveConfig(readEnv((n) => env[n]), {
      "plugin-dir": { value: "/flag/plugins", source: "flag --plugin-dir" },
    });
    expect(c.notify.webhook?.url).toBe("http://env.example.test/");
    expect(c.pluginDir).toBe("/flag/plugins");
  });

  test("a bad value is one error naming the key and where it came from", () => {
    expect(() =>
      resolveConfig({ "notify-when": { value: "sometimes", source: "flag --notify-when" } })
    ).toThrow('invalid notification setting (from flag --notify-when): notify-when "sometimes"');
  });
});
