// Proves the web UI works in a real browser against a real server: headless Chromium loads
// /ui/ from `bun src/main.ts agent --dev`, shows jobs created through REST with their schedule,
// next run, status and enabled state, "Run now" starts an execution that appears with its
// output, the toggle flips a job's state on the server, and the page logs no errors.
// Saves a screenshot to out/ui.png. Skipped (with a message) only if /usr/bin/chromium is missing.
// TOCK_TEST_BINARY=dist/tock runs the same checks against the compiled binary.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { type AgentProcess, startAgent } from "./support/proc.ts";

const root = resolve(import.meta.dir, "..");
const chromiumPath = "/usr/bin/chromium";
const hasChromium = existsSync(chromiumPath);
if (!hasChromium) {
  console.warn(
    `SKIP test/browser_test.ts: ${chromiumPath} is missing (apt-get install -y chromium)`,
  );
}
/** The server under test: the source by default; TOCK_TEST_BINARY=dist/tock runs the binary. */
const binaryUnderTest = process.env["TOCK_TEST_BINARY"];
const serverCmd = binaryUnderTest !== undefined && binaryUnderTest !== ""
  ? [resolve(root, binaryUnderTest)]
  : [process.execPath, join(root, "src/main.ts")];
/** Every wait in this file has this deadline, then fails with what it saw. */
const deadlineMs = 20_000;
/** bun's timeout for a test whose waits use deadlineMs (so a failed wait reports, not bun). */
const testMs = deadlineMs + 10_000;

let dir = "";
let server: AgentProcess | undefined;
let base = "";
let browser: Browser | undefined;
let page: Page | undefined;
const pageErrors: string[] = [];

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

const row = (job: string) => `#jobs-body tr[data-job="${job}"]`;

beforeAll(async () => {
  if (!hasChromium) return;
  dir = mkdtempSync(join(tmpdir(), "tock-ui-"));
  server = await startAgent(["--dev", "--http-addr", "127.0.0.1:0"], {
    command: serverCmd,
    cwd: dir,
    timeoutMs: deadlineMs,
  });
  base = server.url;
  const created = [
    await api("POST", "/v1/jobs", {
      name: "ui-demo",
      displayname: "UI demo",
      // Yearly, so no scheduled run can land while the test runs and change what it counts.
      schedule: "0 0 0 1 1 *",
      executor: "shell",
      executor_config: { command: "echo hello from tock" },
    }),
    await api("POST", "/v1/jobs", {
      name: "nightly-report",
      schedule: "0 30 2 * * *",
      timezone: "Europe/Berlin",
      disabled: true,
      executor: "shell",
      executor_config: { command: "echo report" },
    }),
  ];
  expect(created.map((r) => r.status)).toEqual([201, 201]);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 760 }, timezoneId: "UTC" });
  page.setDefaultTimeout(deadlineMs);
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on("response", (r) => {
    if (r.status() >= 400) pageErrors.push(`HTTP ${r.status()} ${r.url()}`);
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (server !== undefined && server.proc.exitCode === null) {
    server.proc.kill("SIGTERM");
    await server.exited;
  }
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

test.skipIf(!hasChromium)(
  "the page lists jobs created through REST with schedule, next run and state",
  async () => {
    const p = page as Page;
    await p.goto(`${base}/ui/`);
    await p.waitForSelector(row("ui-demo"));
    const cells = await p.locator(`${row("ui-demo")} td`).allInnerTexts();
    expect(cells[0]).toContain("ui-demo");
    expect(cells[0]).toContain("UI demo");
    expect(cells[1]).toBe("0 0 0 1 1 *");
    // The next run shows relative to now, and its tooltip is the server's `next` (page in UTC).
    expect(cells[2]).toMatch(/^in \d+[dhms]/);
    const { next } = (await (await api("GET", "/v1/jobs/ui-demo")).json()) as { next: string };
    expect(next).toMatch(/^\d{4}-01-01T00:00:00Z$/);
    expect(await p.locator(`${row("ui-demo")} td`).nth(2).getAttribute("title"))
      .toBe(next.replace("T", " ").replace("Z", ""));
    expect(cells[3]).toContain("waiting to run");
    expect(cells.slice(4, 7)).toEqual(["0", "0", "enabled"]);
    const off = await p.locator(`${row("nightly-report")} td`).allInnerTexts();
    expect(off[1]).toContain("0 30 2 * * *");
    expect(off[1]).toContain("Europe/Berlin");
    expect(off[6]).toBe("disabled");
    expect(await p.locator("#range").innerText()).toBe("1–2 of 2");
    expect(await p.locator("#node").innerText()).toMatch(/ · v/);
  },
  testMs,
);

test.skipIf(!hasChromium)("Run now starts an execution that appears with its output", async () => {
  const p = page as Page;
  await p.click(`${row("ui-demo")} button.run`);
  await p.waitForSelector("#executions:not([hidden])");
  expect(await p.locator("#executions-title").innerText()).toBe("Executions of ui-demo");
  const done = "#executions-body tr[data-execution] .badge.ok";
  await p.waitForSelector(done);
  const exec = p.locator("#executions-body tr[data-execution]").first();
  expect(await exec.locator(".badge").innerText()).toBe("success");
  await exec.locator("summary").click();
  await p.waitForSelector("#executions-body pre.output:visible");
  expect(await exec.locator("pre.output").innerText()).toContain("hello from tock");
  // The server agrees, and the list's counters catch up on the next refresh.
  const list = (await (await api("GET", "/v1/jobs/ui-demo/executions")).json()) as unknown[];
  expect(list.length).toBe(1);
  await p.waitForFunction(
    (sel) => document.querySelector(sel)?.children[4]?.textContent === "1",
    row("ui-demo"),
  );
  expect(await p.locator(`${row("ui-demo")} .badge`).innerText()).toBe("success");
  expect(p.url()).toEndWith("#/jobs/ui-demo");
}, testMs);

test.skipIf(!hasChromium)("the toggle enables a disabled job on the server", async () => {
  const p = page as Page;
  await p.click(`${row("nightly-report")} button.toggle`);
  await p.waitForSelector(`${row("nightly-report")} button.toggle.on`);
  const job = (await (await api("GET", "/v1/jobs/nightly-report")).json()) as {
    disabled: boolean;
  };
  expect(job.disabled).toBe(false);
  expect(await p.locator(`${row("nightly-report")} td`).nth(2).innerText()).toMatch(/^in /);
}, testMs);

test.skipIf(!hasChromium)("the search box filters the list through the API's q", async () => {
  const p = page as Page;
  await p.fill("#search", "nightly");
  await p.waitForFunction(() => document.querySelectorAll("#jobs-body tr[data-job]").length === 1);
  expect(await p.locator("#jobs-body tr[data-job]").getAttribute("data-job")).toBe(
    "nightly-report",
  );
  expect(await p.locator("#range").innerText()).toBe("1–1 of 1");
  await p.fill("#search", "");
  await p.waitForFunction(() => document.querySelectorAll("#jobs-body tr[data-job]").length === 2);
}, testMs);

test.skipIf(!hasChromium)(
  "a deep link shows a job's executions; long output loads in full on demand",
  async () => {
    const p = page as Page;
    const created = await api("POST", "/v1/jobs", {
      name: "big-output",
      schedule: "@manually",
      executor: "shell",
      executor_config: { command: "seq 1 3000" },
    });
    expect(created.status).toBe(201);
    // Run through REST, then poll the API (with a deadline) until the execution has finished.
    expect((await api("POST", "/v1/jobs/big-output/run")).status).toBe(200);
    const until = Date.now() + deadlineMs;
    let seen: unknown = null;
    for (;;) {
      const list = (await (await api("GET", "/v1/jobs/big-output/executions")).json()) as Array<
        { status: string }
      >;
      seen = list;
      if (list[0]?.status === "success") break;
      if (Date.now() > until) throw new Error(`execution never succeeded: ${JSON.stringify(seen)}`);
      await Bun.sleep(20); // poll interval under a deadline
    }
    await p.goto(`${base}/ui/#/jobs/big-output`);
    await p.waitForSelector("#executions-body tr[data-execution] .badge.ok");
    expect(await p.locator("#executions-title").innerText()).toBe("Executions of big-output");
    const exec = p.locator("#executions-body tr[data-execution]").first();
    await exec.locator("summary").click();
    const tail = await exec.locator("pre.output").innerText();
    expect(tail.trimEnd().endsWith("2999\n3000")).toBe(true);
    expect(tail.startsWith("1\n2\n")).toBe(false); // the list carries only the last 4 KiB
    await exec.locator("button.more").click();
    await p.waitForFunction(() =>
      document.querySelector("#executions-body pre.output")?.textContent?.startsWith("1\n2\n3\n")
    );
    const full = await exec.locator("pre.output").innerText();
    expect(full.trim().split("\n").length).toBe(3000);
    expect(await exec.locator("button.more").count()).toBe(0);
    await p.locator("#close-executions").click();
    await p.waitForSelector("#executions", { state: "hidden" });
  },
  testMs,
);

test.skipIf(!hasChromium)(
  "the page logged no errors; a screenshot is saved to out/ui.png",
  async () => {
    const p = page as Page;
    // Show the first job's executions with its output unfolded, for the picture.
    await p.goto(`${base}/ui/#/jobs/ui-demo`);
    await p.locator("#executions-body tr[data-execution] summary").first().click();
    await p.waitForSelector("#executions-body pre.output:visible");
    mkdirSync(join(root, "out"), { recursive: true });
    await p.screenshot({ path: join(root, "out/ui.png"), fullPage: true });
    expect(pageErrors).toEqual([]);
  },
  testMs,
);
