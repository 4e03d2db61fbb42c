// Proves the web UI in a real browser against a real node: headless Chromium (playwright-core
// driving /usr/bin/chromium) loads /ui/ from `tock agent --dev` started from the compiled binary
// (built here into dist/tock, as users get it; TOCK_TEST_BINARY=PATH uses a prebuilt one,
// TOCK_TEST_SOURCE=1 runs `bun src/main.ts` instead). Through the page it creates a job with
// the form (the server's validation error shown inline first) and sees it run on schedule,
// follows live output while scrolled up (the view and a selection stay put), kills running
// executions from the execution page and from "Running now", filters to failed jobs, pages and
// sorts 10k restored jobs, shows action errors until dismissed, drives the keyboard, lays out
// at 390 px, switches to dark mode, and logs no errors. Screenshots go to out/ui-*.png.
// Every wait has a deadline and fails with what it saw; nothing sleeps for a fixed time.
// Skipped (with a message) only if /usr/bin/chromium is missing.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { chromiumPath, hasChromium, launchChromium } from "./support/browser.ts";
import { type AgentProcess, startAgent, stopAgent, until } from "./support/proc.ts";

const root = resolve(import.meta.dir, "..");
if (!hasChromium) {
  console.warn(
    `SKIP test/browser_test.ts: ${chromiumPath} is missing (apt-get install -y chromium)`,
  );
}
/** The server under test: the compiled binary unless TOCK_TEST_SOURCE=1. */
const binaryUnderTest = process.env["TOCK_TEST_BINARY"] || "";
const fromSource = process.env["TOCK_TEST_SOURCE"] === "1";
const serverCmd = fromSource
  ? [process.execPath, join(root, "src/main.ts")]
  : [resolve(root, binaryUnderTest || "dist/tock")];

/** Builds dist/tock with the UI embedded (scripts/compile.ts), unless a binary was given. */
function compileBinary(): void {
  if (fromSource || binaryUnderTest !== "") return;
  const build = spawnSync(process.execPath, ["run", "scripts/compile.ts"], {
    cwd: root,
    encoding: "utf8",
  });
  if (build.status !== 0) throw new Error(`compile failed:\n${build.stdout}${build.stderr}`);
}
/** Every wait in this file has this deadline (the box is shared and loaded), then fails. */
const deadlineMs = 30_000;
/** Per-test budget: a few waits each, kept above the wait deadline so failures print. */
const testMs = 120_000;
const outDir = join(root, "out");

let dir = "";
let server: AgentProcess | undefined;
let base = "";
let browser: Browser | undefined;
let page: Page | undefined;
/** Console errors and page errors; HTTP error answers are kept apart (some are provoked). */
const pageErrors: string[] = [];
const httpErrors: string[] = [];

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await api(method, path, body);
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface RestExecution {
  id: string;
  status: string;
  reason: string;
}

/** Starts a run through REST (which answers with the job) and returns the new execution. */
async function runJob(name: string): Promise<RestExecution> {
  const known = new Set(
    (await json<RestExecution[]>("GET", `/v1/jobs/${name}/executions`)).map((e) => e.id),
  );
  await json("POST", `/v1/jobs/${name}/run`);
  return await until(`a new execution of ${name}`, async () => {
    const list = await json<RestExecution[]>("GET", `/v1/jobs/${name}/executions`);
    return list.find((e) => !known.has(e.id));
  }, deadlineMs);
}

async function executionOf(job: string, id: string): Promise<RestExecution | undefined> {
  const list = await json<RestExecution[]>("GET", `/v1/jobs/${job}/executions`);
  return list.find((e) => e.id === id);
}

const shot = async (p: Page, name: string) => {
  mkdirSync(outDir, { recursive: true });
  await p.screenshot({ path: join(outDir, `ui-${name}.png`), fullPage: true });
};

/** A shell job whose command prints `lines` numbered lines, one every `everyS` seconds. */
const ticker = (lines: number, everyS: number) =>
  `i=0; while [ $i -lt ${lines} ]; do i=$((i+1)); echo "line $i"; sleep ${everyS}; done`;

beforeAll(async () => {
  if (!hasChromium) return;
  compileBinary();
  dir = mkdtempSync(join(tmpdir(), "tock-ui-"));
  server = await startAgent(["--dev", "--http-addr", "127.0.0.1:0"], {
    command: serverCmd,
    cwd: dir,
    timeoutMs: deadlineMs,
  });
  base = server.url;
  browser = await launchChromium();
  // A fresh context is a fresh profile (playwright gives each its own user-data).
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    timezoneId: "UTC",
    colorScheme: "light",
  });
  page = await context.newPage();
  page.setDefaultTimeout(deadlineMs);
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on("response", (r) => {
    if (r.status() >= 400) httpErrors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stopAgent(server);
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

const it = test.skipIf(!hasChromium);

it(
  "the form shows the server's validation error inline, then creates a job that runs on schedule",
  async () => {
    const p = page as Page;
    await p.goto(`${base}/ui/#/new`);
    await p.fill("#j-name", "ui-made");
    await p.fill("#j-displayname", "Made in the UI");
    await p.fill("#j-schedule", "every banana");
    await p.fill("#j-executor_config", "echo made by the form");
    await p.fill("#j-tags", "team=web");
    // The raw editor follows the form.
    await p.waitForFunction(() =>
      (document.querySelector("#raw") as HTMLTextAreaElement).value.includes('"every banana"')
    );
    await p.click("#save");
    const fieldError = p.locator('[data-field="schedule"] .field-error');
    await fieldError.waitFor();
    expect(await fieldError.innerText()).toContain("schedule");
    expect(p.url()).toEndWith("#/new");
    expect((await api("GET", "/v1/jobs/ui-made")).status).toBe(404);
    await shot(p, "form-error");

    await p.fill("#j-schedule", "@every 2s");
    expect(await fieldError.count()).toBe(0); // editing the field clears its error
    await p.click("#save");
    await p.waitForURL(/#\/jobs\/ui-made$/);
    await p.locator("#job h2").getByText("ui-made").waitFor();
    const stored = await json<{ schedule: string; tags: Record<string, string> }>(
      "GET",
      "/v1/jobs/ui-made",
    );
    expect(stored.schedule).toBe("@every 2s");
    expect(stored.tags).toEqual({ team: "web" });
    // A scheduled run (nobody pressed Run) shows up as a success in the executions table.
    await p.locator("#executions-body .badge.ok").first().waitFor();
    await p.locator("#next-runs tbody tr").nth(9).waitFor();
    await p.locator("#history-chart canvas").waitFor();
    await shot(p, "job");
    // Disable it from the page so it stops adding runs.
    await p.click("#toggle");
    await until("the job to be disabled", async () => {
      const j = await json<{ disabled: boolean }>("GET", "/v1/jobs/ui-made");
      return j.disabled ? true : undefined;
    }, deadlineMs);
    await p.locator("#toggle", { hasText: "Enable" }).waitFor();
    // Edit: the form opens filled from the stored job; a change is saved and shown.
    await p.click("#edit");
    await p.waitForURL(/#\/jobs\/ui-made\/edit$/);
    await p.waitForFunction(() =>
      (document.querySelector("#j-schedule") as HTMLInputElement | null)?.value === "@every 2s"
    );
    expect(await p.isDisabled("#j-name")).toBe(true);
    expect(await p.inputValue("#j-tags")).toBe("team=web");
    await p.fill("#j-displayname", "Edited in the UI");
    await p.click("#save");
    await p.waitForURL(/#\/jobs\/ui-made$/);
    await p.locator("#job h2").getByText("Edited in the UI").waitFor();
    const edited = await json<{ displayname: string; disabled: boolean }>(
      "GET",
      "/v1/jobs/ui-made",
    );
    expect(edited).toMatchObject({ displayname: "Edited in the UI", disabled: true });
    // The raw editor: the same job as YAML, edited and applied back to the form.
    await p.goto(`${base}/ui/#/jobs/ui-made/edit`);
    await p.waitForFunction(() =>
      (document.querySelector("#j-schedule") as HTMLInputElement | null)?.value === "@every 2s"
    );
    await p.click("#raw-yaml");
    await p.waitForFunction(() => {
      const raw = (document.querySelector("#raw") as HTMLTextAreaElement).value;
      return /^schedule: .*@every 2s/m.test(raw) && !raw.trimStart().startsWith("{");
    });
    const yaml = await p.inputValue("#raw");
    await p.fill("#raw", yaml.replace(/^schedule: .*$/m, 'schedule: "@every 3s"'));
    await p.click("#raw-apply");
    await p.waitForFunction(() =>
      (document.querySelector("#j-schedule") as HTMLInputElement).value === "@every 3s"
    );
  },
  testMs,
);

it("an edit through the form keeps the fields the form does not show", async () => {
  const p = page as Page;
  const expires = new Date(Date.now() + 30 * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");
  expect(
    (await api("POST", "/v1/jobs", {
      name: "ui-keep",
      schedule: "@manually",
      executor: "shell",
      executor_config: { command: "true" },
      expires_at: expires,
      processors: { log: { forward: "true" } },
    })).status,
  ).toBe(201);
  await p.goto(`${base}/ui/#/jobs/ui-keep/edit`);
  await p.waitForFunction(() =>
    (document.querySelector("#j-schedule") as HTMLInputElement | null)?.value === "@manually"
  );
  await p.fill("#j-displayname", "kept");
  await p.click("#save");
  await p.waitForURL(/#\/jobs\/ui-keep$/);
  const j = await json<{ displayname: string; expires_at: string; processors: unknown }>(
    "GET",
    "/v1/jobs/ui-keep",
  );
  expect(j.displayname).toBe("kept");
  expect(j.expires_at).toBe(expires);
  expect(j.processors).toEqual({ log: { forward: "true" } });
}, testMs);

it(
  "live output appends while scrolled up: the view and a selection stay put; Kill stops it",
  async () => {
    const p = page as Page;
    expect(
      (await api("POST", "/v1/jobs", {
        name: "ui-stream",
        schedule: "@manually",
        executor: "shell",
        executor_config: { shell: "true", command: ticker(3000, 0.02) },
      })).status,
    ).toBe(201);
    const e = await runJob("ui-stream");
    await p.goto(`${base}/ui/#/jobs/ui-stream/executions/${e.id}`);
    const lines = () =>
      p.evaluate(() => (document.querySelector("#output")?.textContent ?? "").split("\n").length);
    await p.waitForFunction(
      () => (document.querySelector("#output")?.textContent ?? "").split("\n").length > 120,
    );
    // Following: the view is at the end.
    expect(await p.isChecked("#follow")).toBe(true);
    await p.waitForFunction(() => {
      const o = document.querySelector("#output") as HTMLElement;
      return o.scrollHeight > o.clientHeight && o.scrollTop + o.clientHeight >= o.scrollHeight - 4;
    });
    // Scroll to the top and select "line 1": follow turns off.
    await p.evaluate(() => {
      const o = document.querySelector("#output") as HTMLElement;
      o.scrollTop = 0;
      o.dispatchEvent(new Event("scroll"));
      const first = o.firstChild as Text & { tockMark?: boolean };
      first.tockMark = true; // survives only if this node is never rebuilt
      const range = document.createRange();
      range.setStart(first, 0);
      range.setEnd(first, "line 1".length);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
    });
    await p.waitForFunction(() => !(document.querySelector("#follow") as HTMLInputElement).checked);
    const before = await lines();
    const bytesBefore = await p.innerText("#bytes");
    await p.waitForFunction(
      (n) => (document.querySelector("#output")?.textContent ?? "").split("\n").length > n + 100,
      before,
    );
    const after = await p.evaluate(() => {
      const o = document.querySelector("#output") as HTMLElement;
      return {
        scrollTop: o.scrollTop,
        selection: getSelection()?.toString(),
        sameNode: (o.firstChild as Text & { tockMark?: boolean }).tockMark === true,
        head: (o.textContent ?? "").slice(0, 14),
      };
    });
    expect(after).toEqual({
      scrollTop: 0,
      selection: "line 1",
      sameNode: true,
      head: "line 1\nline 2\n",
    });
    expect(await p.innerText("#bytes")).not.toBe(bytesBefore);
    expect(await p.innerText("#elapsed")).toMatch(/\d/);
    await p.locator("h3 .live").waitFor();
    await shot(p, "execution");
    // Follow again: the view jumps to the end and stays there.
    await p.check("#follow");
    await p.waitForFunction(() => {
      const o = document.querySelector("#output") as HTMLElement;
      return o.scrollTop > 0 && o.scrollTop + o.clientHeight >= o.scrollHeight - 4;
    });
    // Kill it from the page: the badge turns failed and the reason names the kill.
    await p.click("#kill");
    await p.locator("#execution .bar .badge.bad").waitFor();
    expect(await p.innerText("#reason")).toContain("kill");
    await p.locator("h3 .live").waitFor({ state: "detached" });
    expect((await executionOf("ui-stream", e.id))?.status).toBe("failed");
  },
  testMs,
);

it("Running now lists a running execution with its elapsed time and kills it", async () => {
  const p = page as Page;
  const e = await runJob("ui-stream");
  await p.goto(`${base}/ui/#/running`);
  const row = p.locator(`#running-body tr[data-execution="${e.id}"]`);
  await row.waitFor();
  await p.waitForFunction(
    (id) =>
      /\d/.test(
        document.querySelector(`tr[data-execution="${id}"] td:nth-child(3)`)?.textContent ?? "",
      ),
    e.id,
  );
  await row.locator("button.kill").click();
  await row.waitFor({ state: "detached" });
  const done = await until("the killed run to finish", async () => {
    const x = await executionOf("ui-stream", e.id);
    return x !== undefined && x.status !== "running" ? x : undefined;
  }, deadlineMs);
  expect(done.status).toBe("failed");
}, testMs);

it("an action's error stays where it happened until dismissed", async () => {
  const p = page as Page;
  expect(
    (await api("POST", "/v1/jobs", {
      name: "ui-forbid",
      schedule: "@manually",
      concurrency: "forbid",
      executor: "shell",
      executor_config: { shell: "true", command: ticker(600, 0.1) },
    })).status,
  ).toBe(201);
  const e = await runJob("ui-forbid");
  await p.goto(`${base}/ui/#/jobs/ui-forbid`);
  await p.click("#run");
  const error = p.locator("#job .errors .error");
  await error.waitFor();
  const message = await error.innerText();
  expect(message.toLowerCase()).toContain("running");
  // Still there after the page has refreshed its data: a change elsewhere (a new job) makes
  // the page refetch (WatchChanges), and a GetJob answer arrives after it.
  const refetched = p.waitForResponse((r) => r.url().includes("/tock.v1.JobService/GetJob"));
  expect(
    (await api("POST", "/v1/jobs", {
      name: "ui-touch",
      schedule: "@manually",
      executor: "shell",
      executor_config: { command: "true" },
    })).status,
  ).toBe(201);
  await refetched;
  expect(await error.innerText()).toBe(message);
  await error.locator("button.dismiss").click();
  await error.waitFor({ state: "detached" });
  // Force run is allowed past forbid; then stop both runs.
  await p.click("#force-run");
  await p.waitForURL(/#\/jobs\/ui-forbid\/executions\//);
  await p.locator("#kill").click();
  await p.locator("#execution .bar .badge.bad").waitFor();
  await api("POST", `/v1/jobs/ui-forbid/executions/${e.id}/kill`);
}, testMs);

it(
  "the jobs table filters to failed jobs (in the URL), and Back restores the previous view",
  async () => {
    const p = page as Page;
    expect(
      (await api("POST", "/v1/jobs", {
        name: "ui-fail",
        owner: "ops",
        schedule: "@manually",
        executor: "shell",
        executor_config: { shell: "true", command: "echo about to fail; exit 3" },
      })).status,
    ).toBe(201);
    await runJob("ui-fail");
    await until("ui-fail to have failed", async () => {
      const j = await json<{ status: string }>("GET", "/v1/jobs/ui-fail");
      return j.status === "failed" ? true : undefined;
    }, deadlineMs);
    await p.goto(`${base}/ui/#/jobs?q=ui-`);
    await p.locator('#jobs-body tr[data-job="ui-made"]').waitFor();
    await p.selectOption("#f-status", "failed");
    await p.waitForURL(/status=failed/);
    const names = () =>
      p.evaluate(() =>
        [...document.querySelectorAll("#jobs-body tr[data-job]")].map((r) =>
          r.getAttribute("data-job")
        )
      );
    await p.waitForFunction(() =>
      [...document.querySelectorAll("#jobs-body tr[data-job]")].every((r) =>
        r.querySelector(".badge")?.textContent === "failed"
      )
    );
    const failed = await names();
    expect(failed).toContain("ui-fail");
    expect(failed).not.toContain("ui-made");
    // The last runs' strip shows the failure.
    expect(await p.locator('tr[data-job="ui-fail"] .strip .cell.bad').count()).toBe(1);
    // "Failed in the last hour" and owner narrow it further; the URL carries all of it.
    await p.selectOption("#f-failed", "1h");
    await p.fill("#f-owner", "ops");
    await p.press("#f-owner", "Enter");
    await p.waitForURL(/owner=ops/);
    expect(p.url()).toContain("failed=1h");
    await p.waitForFunction(() =>
      document.querySelectorAll("#jobs-body tr[data-job]").length === 1
    );
    expect(await names()).toEqual(["ui-fail"]);
    await shot(p, "jobs-failed");
    // A reload of the deep link shows the same.
    await p.reload();
    await p.waitForFunction(() =>
      document.querySelectorAll("#jobs-body tr[data-job]").length === 1
    );
    // Back walks the filters back.
    await p.goBack();
    await p.waitForURL((u) => !u.hash.includes("owner=ops"));
    await p.goBack();
    await p.goBack();
    await p.waitForURL((u) => !u.hash.includes("status=failed"));
    await p.locator('#jobs-body tr[data-job="ui-made"]').waitFor();
  },
  testMs,
);

it("the keyboard: / searches, j/k move, Enter opens, Esc leaves the field", async () => {
  const p = page as Page;
  await p.goto(`${base}/ui/#/jobs`);
  await p.locator('#jobs-body tr[data-job="ui-fail"]').waitFor();
  await p.keyboard.press("/");
  expect(await p.evaluate(() => document.activeElement?.id)).toBe("search");
  await p.keyboard.type("ui-f");
  await p.waitForURL(/q=ui-f/); // debounced search lands in the URL
  await p.waitForFunction(() =>
    [...document.querySelectorAll("#jobs-body tr[data-job]")].map((r) => r.getAttribute("data-job"))
      .join(",") === "ui-fail,ui-forbid"
  );
  await p.keyboard.press("Escape");
  expect(await p.evaluate(() => document.activeElement?.id ?? "")).not.toBe("search");
  await p.keyboard.press("j");
  await p.keyboard.press("j");
  await p.keyboard.press("k");
  expect(await p.locator("#jobs-body tr.cursor").getAttribute("data-job")).toBe("ui-fail");
  await p.keyboard.press("Enter");
  await p.waitForURL(/#\/jobs\/ui-fail$/);
  await p.goBack();
  await p.waitForURL(/q=ui-f/);
  expect(await p.inputValue("#search")).toBe("ui-f");
}, testMs);

it("the dashboard shows this node as leader and the last hour's failures", async () => {
  const p = page as Page;
  await p.goto(`${base}/ui/#/`);
  await p.locator("#leader").waitFor();
  const status = await json<{ agent: { name: string } }>("GET", "/v1/");
  expect(await p.innerText("#leader")).toBe(status.agent.name);
  const member = await p.locator("#members-body tr").allInnerTexts();
  expect(member.length).toBe(1);
  expect(member[0]).toContain("leader");
  expect(member[0]).toContain("alive");
  // ui-fail, and the runs killed above, failed within the hour.
  expect(Number(await p.innerText("#t-failed .value"))).toBeGreaterThanOrEqual(3);
  await p.locator('#failing-body a[href="#/jobs/ui-fail"]').waitFor();
  await shot(p, "dashboard");
  // Upcoming: an hourly job's launches in the 24 h histogram and the soonest list.
  expect(
    (await api("POST", "/v1/jobs", {
      name: "ui-hourly",
      schedule: "@every 1h",
      executor: "shell",
      executor_config: { command: "true" },
    })).status,
  ).toBe(201);
  await p.goto(`${base}/ui/#/upcoming`);
  await p.locator("#upcoming-chart canvas").waitFor();
  await p.locator('#upcoming-body a[href="#/jobs/ui-hourly"]').first().waitFor();
  expect(await p.locator('#upcoming-body a[href="#/jobs/ui-hourly"]').count()).toBe(24);
  await shot(p, "upcoming");
}, testMs);

it(
  "reads go as Connect GET with an ETag: asking again for unchanged data is an empty 304",
  async () => {
    const p = page as Page;
    const seen = p.waitForResponse((r) =>
      r.url().includes("/tock.v1.JobService/GetJob?") && r.request().method() === "GET"
    );
    await p.goto(`${base}/ui/#/jobs/ui-fail`);
    const res = await seen;
    const etag = (await res.allHeaders())["etag"];
    expect(etag).toMatch(/^W\/".+"$/);
    const again = await fetch(res.url(), { headers: { "if-none-match": etag as string } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    const plain = await fetch(res.url(), { headers: { "accept-encoding": "br" } });
    expect(plain.status).toBe(200);
  },
  testMs,
);

it(
  "a change made elsewhere shows up without polling (WatchChanges), sooner than the fallback timer",
  async () => {
    const p = page as Page;
    await p.goto(`${base}/ui/#/jobs?q=ui-touch`);
    await p.locator('#jobs-body tr[data-job="ui-touch"]').waitFor();
    expect(
      (await api("POST", "/v1/jobs", {
        name: "ui-touch",
        displayname: "Changed through REST",
        schedule: "@manually",
        executor: "shell",
        executor_config: { command: "true" },
      })).status,
    ).toBe(201);
    // 10 s: well inside the page's 30 s fallback refetch, so only the pushed change can do it.
    await p.locator('#jobs-body tr[data-job="ui-touch"]', { hasText: "Changed through REST" })
      .waitFor({ timeout: 10_000 });
  },
  testMs,
);

it("bulk actions disable, enable and delete the selected jobs", async () => {
  const p = page as Page;
  for (const name of ["ui-bulk-a", "ui-bulk-b"]) {
    expect(
      (await api("POST", "/v1/jobs", {
        name,
        schedule: "@daily",
        executor: "shell",
        executor_config: { command: "true" },
      })).status,
    ).toBe(201);
  }
  await p.goto(`${base}/ui/#/jobs?q=ui-bulk`);
  await p.waitForFunction(() => document.querySelectorAll("#jobs-body tr[data-job]").length === 2);
  await p.check('#jobs-body tr[data-job="ui-bulk-a"] input[type=checkbox]');
  await p.check('#jobs-body tr[data-job="ui-bulk-b"] input[type=checkbox]');
  await p.locator("#bulk", { hasText: "2 selected" }).waitFor();
  const disabled = async () =>
    await Promise.all(
      ["ui-bulk-a", "ui-bulk-b"].map(async (n) =>
        (await json<{ disabled: boolean }>("GET", `/v1/jobs/${n}`)).disabled
      ),
    );
  await p.locator("#bulk button", { hasText: "Disable" }).click();
  await p.waitForFunction(() =>
    document.querySelectorAll("#jobs-body button.toggle.off").length === 2
  );
  expect(await disabled()).toEqual([true, true]);
  await p.locator("#bulk button", { hasText: "Enable" }).click();
  await p.waitForFunction(() =>
    document.querySelectorAll("#jobs-body button.toggle.on").length === 2
  );
  expect(await disabled()).toEqual([false, false]);
  await p.locator("#bulk button", { hasText: "Delete…" }).click();
  await p.click("#confirm-delete");
  await p.waitForFunction(() => document.querySelectorAll("#jobs-body tr[data-job]").length === 0);
  expect((await api("GET", "/v1/jobs/ui-bulk-a")).status).toBe(404);
  expect((await api("GET", "/v1/jobs/ui-bulk-b")).status).toBe(404);
}, testMs);

it("10k restored jobs page and sort on the server", async () => {
  const p = page as Page;
  const n = 10_000;
  const jobs = Array.from({ length: n }, (_, i) => ({
    name: `bulk-${String(i).padStart(5, "0")}`,
    schedule: "@manually",
    executor: "shell",
    executor_config: { command: "true" },
    owner: i % 2 === 0 ? "even" : "odd",
  }));
  const form = new FormData();
  form.set("file", new Blob([JSON.stringify(jobs)]), "backup.json");
  const res = await fetch(`${base}/v1/restore`, { method: "POST", body: form });
  expect(res.status).toBe(200);
  const total = Number((await api("GET", "/v1/jobs?_start=0&_end=1")).headers.get("X-Total-Count"));
  expect(total).toBeGreaterThanOrEqual(n);
  await p.goto(`${base}/ui/#/jobs?q=bulk-&size=50`);
  await p.waitForFunction(
    (t) => document.querySelector("#range")?.textContent === `1–50 of ${t}`,
    n,
  );
  expect(await p.locator("#jobs-body tr[data-job]").first().getAttribute("data-job")).toBe(
    "bulk-00000",
  );
  await p.click("#next");
  await p.waitForURL(/page=2/);
  await p.waitForFunction(() =>
    document.querySelector("#jobs-body tr[data-job]")?.getAttribute("data-job") === "bulk-00050"
  );
  expect(await p.innerText("#range")).toBe(`51–100 of ${n}`);
  // Sort by name, descending (the header link): back to page 1, the last name first.
  await p.click('a.sort[data-sort="name"]');
  await p.waitForURL(/order=DESC/);
  await p.waitForFunction(() =>
    document.querySelector("#jobs-body tr[data-job]")?.getAttribute("data-job") === "bulk-09999"
  );
  // The last page holds the remainder.
  await p.goto(`${base}/ui/#/jobs?q=bulk-&size=100&page=100`);
  await p.waitForFunction(() =>
    document.querySelector("#range")?.textContent === "9901–10000 of 10000"
  );
  expect(await p.locator("#jobs-body tr[data-job]").count()).toBe(100);
  await shot(p, "jobs-10k");
}, testMs);

it(
  "at 390 px wide the page does not scroll sideways and status and actions are on screen",
  async () => {
    const p = page as Page;
    await p.setViewportSize({ width: 390, height: 844 });
    try {
      for (const hash of ["#/jobs?q=ui-", "#/jobs/ui-fail", "#/", "#/new", "#/running"]) {
        await p.goto(`${base}/ui/${hash}`);
        await p.locator("main section").first().waitFor();
        await p.waitForFunction(() => !document.body.innerText.includes("Loading…"));
        const width = await p.evaluate(() => document.documentElement.scrollWidth);
        expect({ hash, width }).toEqual({ hash, width: 390 });
      }
      await p.goto(`${base}/ui/#/jobs?q=ui-fail`);
      const row = p.locator('#jobs-body tr[data-job="ui-fail"]');
      await row.waitFor();
      for (const part of [".badge", "button.run", "button.toggle"]) {
        const box = await row.locator(part).boundingBox();
        expect(box).not.toBeNull();
        expect({ part, right: (box?.x ?? 0) + (box?.width ?? 0) <= 390 }).toEqual({
          part,
          right: true,
        });
      }
      await shot(p, "390");
    } finally {
      await p.setViewportSize({ width: 1280, height: 800 });
    }
  },
  testMs,
);

it("dark mode follows the system and the switch; the choice survives a reload", async () => {
  const p = page as Page;
  const luminance = () =>
    p.evaluate(() => {
      const m = /(\d+), (\d+), (\d+)/.exec(getComputedStyle(document.body).backgroundColor);
      const [r, g, b] = (m?.slice(1) ?? ["255", "255", "255"]).map(Number) as number[];
      return (0.2126 * r! + 0.7152 * g! + 0.0722 * b!) / 255;
    });
  await p.goto(`${base}/ui/#/jobs?q=ui-`);
  await p.locator("#jobs-body tr[data-job]").first().waitFor();
  expect(await luminance()).toBeGreaterThan(0.8);
  await p.emulateMedia({ colorScheme: "dark" });
  expect(await luminance()).toBeLessThan(0.2); // system dark, no choice made
  await p.emulateMedia({ colorScheme: "light" });
  expect(await luminance()).toBeGreaterThan(0.8);
  await p.click("#theme"); // system → light
  await p.click("#theme"); // light → dark
  expect(await p.evaluate(() => document.documentElement.dataset["theme"])).toBe("dark");
  expect(await luminance()).toBeLessThan(0.2);
  await p.reload();
  await p.locator("#jobs-body tr[data-job]").first().waitFor();
  expect(await luminance()).toBeLessThan(0.2);
  await shot(p, "dark");
  await p.click("#theme"); // dark → system (light here)
  expect(await luminance()).toBeGreaterThan(0.8);
}, testMs);

it("the page logged no errors; the only HTTP errors are the two provoked ones", () => {
  expect(pageErrors.filter((e) => !e.includes("Failed to load resource"))).toEqual([]);
  // The validation error (UpsertJob) and the forbid refusal (RunJob), and nothing else.
  const provoked = httpErrors.filter((e) =>
    /^4\d\d POST .*\/tock\.v1\.JobService\/(UpsertJob|RunJob)$/.test(e)
  );
  expect(httpErrors).toEqual(provoked);
  expect(provoked.length).toBe(2);
  expect(pageErrors.length).toBe(provoked.length); // Chromium logs each failed call once
});
