// Proves the web UI on a node with ACLs on, in headless Chromium against a real agent: without
// a token the page asks for one (the server answered Unauthenticated), with the bootstrap
// token it lists jobs, and the token survives a reload. Skipped only without /usr/bin/chromium.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { hasChromium, launchChromium } from "./support/browser.ts";
import { type AgentProcess, startAgent, stopAgent } from "./support/proc.ts";

const root = resolve(import.meta.dir, "..");
const deadlineMs = 30_000;
const testMs = 90_000;

let dir = "";
let server: AgentProcess | undefined;
let browser: Browser | undefined;
let page: Page | undefined;
let secret = "";
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!hasChromium) return;
  dir = mkdtempSync(join(tmpdir(), "tock-ui-acl-"));
  server = await startAgent(["--dev", "--acl-enabled", "--http-addr", "127.0.0.1:0"], {
    cwd: dir,
    timeoutMs: deadlineMs,
  });
  const boot = await fetch(`${server.url}/v1/acl/bootstrap`, { method: "POST" });
  expect(boot.status).toBe(200);
  secret = ((await boot.json()) as { secret: string }).secret;
  const created = await fetch(`${server.url}/v1/jobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${secret}` },
    body: JSON.stringify({
      name: "acl-visible",
      schedule: "@manually",
      executor: "shell",
      executor_config: { command: "true" },
    }),
  });
  expect(created.status).toBe(201);
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  page.setDefaultTimeout(deadlineMs);
  page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    // The unauthenticated calls before the token is given are expected (401 in the console).
    if (m.type() === "error" && !m.text().includes("status of 401")) {
      pageErrors.push(`console: ${m.text()}`);
    }
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stopAgent(server);
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

test.skipIf(!hasChromium)(
  "without a token the page asks for one; with it the jobs show, and stay after a reload",
  async () => {
    const p = page as Page;
    const url = (server as AgentProcess).url;
    await p.goto(`${url}/ui/#/jobs`);
    await p.locator("#token-form").waitFor();
    expect(await p.locator('#jobs-body tr[data-job="acl-visible"]').count()).toBe(0);
    await p.fill("#token", secret);
    await p.click('#token-form button[type="submit"]');
    await p.locator('#jobs-body tr[data-job="acl-visible"]').waitFor();
    expect(await p.locator("#token-form").count()).toBe(0);
    expect(await p.innerText("#token-button")).toContain("✓");
    await p.reload();
    await p.locator('#jobs-body tr[data-job="acl-visible"]').waitFor();
    mkdirSync(join(root, "out"), { recursive: true });
    await p.screenshot({ path: join(root, "out/ui-acl.png") });
    expect(pageErrors).toEqual([]);
  },
  testMs,
);
