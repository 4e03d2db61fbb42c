/**
 * Notifications after a run (and the pre-webhook at its start): the cluster-wide webhook and
 * mail of the agent config, and per-job `webhook` / `mail` entries in the job's `processors`.
 *
 * A notification never fails or blocks a run: deliveries are queued after the run is recorded,
 * each attempt is bounded by limits.notifyTimeoutMs, and a failed one is retried on the clock
 * (a timer, not a sleep) with a doubling delay up to limits.webhookAttemptsMax attempts. A full
 * queue drops new notifications with a log line rather than growing without bound.
 */
import { type Clock, errorMessage, limits, type TimerHandle } from "../lib/mod.ts";
import {
  type MailServer,
  type NotifyConfig,
  parseHeaders,
  type WebhookTarget,
  type When,
  whenValues,
} from "./config.ts";
import { sendMail } from "./_mail.ts";
import { checkTemplate, render, type ReportInput, templateVars } from "./_template.ts";

/** Names in a job's `processors` map that are notifications, not output processors. */
export const notificationNames = ["webhook", "mail"] as const;

/** Should a run with this outcome notify? `previous` is the job's last outcome (undefined: none). */
export function shouldNotify(when: When, success: boolean, previous: boolean | undefined): boolean {
  if (when === "always") return true;
  if (when === "failure") return !success;
  // A job's state before its first run counts as success: a first failure is a change.
  return success !== (previous ?? true);
}

function whenOf(config: Record<string, string>, fallback: When): When {
  const w = config.when ?? "";
  return w === "" ? fallback : w as When;
}

/** Checks a per-job `webhook` or `mail` entry; `mailConfigured` says whether mail-host is set. */
export function validateNotification(
  name: string,
  config: Record<string, string>,
  mailConfigured: boolean,
): string | undefined {
  const known = name === "webhook"
    ? ["url", "payload", "headers", "when"]
    : ["to", "payload", "when"];
  for (const k of Object.keys(config)) {
    if (!known.includes(k)) return `${name}: unknown key "${k}" (known: ${known.join(", ")})`;
  }
  if (config.when && !(whenValues as readonly string[]).includes(config.when)) {
    return `${name}: when "${config.when}" is not one of ${whenValues.join(", ")}`;
  }
  const bad = checkTemplate(config.payload ?? "");
  if (bad) return `${name}: payload: ${bad}`;
  if (name === "webhook") {
    try {
      const u = new URL(config.url ?? "");
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    } catch {
      return `webhook: url "${config.url ?? ""}" is not an http(s) URL`;
    }
    try {
      parseHeaders(config.headers ?? "", "webhook: headers");
    } catch (e) {
      return (e as Error).message;
    }
  } else {
    if (!mailConfigured) return "mail: the agents have no mail-host and mail-port configured";
    for (const to of (config.to ?? "").split(",").filter((t) => t.trim() !== "")) {
      if (!/^[^\s@]+@[^\s@]+$/.test(to.trim())) return `mail: to "${to}" is not an address`;
    }
  }
  return undefined;
}

interface Delivery {
  what: string;
  attempt: number;
  send(signal: AbortSignal): Promise<void>;
}

export interface NotifierDeps {
  clock: Clock;
  config: NotifyConfig;
  nodeName: string;
  /** Where delivery problems are reported (the agent log). */
  log(line: string): void;
}

export interface FinishedRun extends ReportInput {
  ownerEmail: string;
  /** The job's processors map (per-job webhook/mail entries are read from it). */
  processors: Record<string, Record<string, string>>;
  /** The job's outcome before this run, or undefined for its first run. */
  previousSuccess: boolean | undefined;
}

export class Notifier {
  readonly #deps: NotifierDeps;
  #pending = 0;
  #timers = new Set<TimerHandle>();
  #inFlight = new Set<AbortController>();
  #stopped = false;
  /** Deliveries that succeeded / were given up, for tests and metrics. */
  delivered = 0;
  abandoned = 0;

  constructor(deps: NotifierDeps) {
    this.#deps = deps;
  }

  /** Deliveries queued, waiting for a retry, or in flight. */
  get pending(): number {
    return this.#pending;
  }

  /** The pre-webhook, once when a run starts (Dkron sent it on every output chunk). */
  started(r: Omit<ReportInput, "finishedAt" | "output" | "success">): void {
    const hook = this.#deps.config.preWebhook;
    if (!hook) return;
    const vars = templateVars({ ...r, finishedAt: null, output: "", success: false });
    this.#enqueue(this.#webhook(`pre-webhook for ${r.jobName}/${r.executionId}`, hook, vars));
  }

  finished(r: FinishedRun): void {
    const c = this.#deps.config;
    const vars = templateVars(r);
    const id = `${r.jobName}/${r.executionId}`;
    if (c.webhook && shouldNotify(c.when, r.success, r.previousSuccess)) {
      this.#enqueue(this.#webhook(`webhook for ${id}`, c.webhook, vars));
    }
    if (c.mail && r.ownerEmail !== "" && shouldNotify(c.when, r.success, r.previousSuccess)) {
      this.#enqueue(this.#mail(`mail for ${id}`, c.mail, [r.ownerEmail], c.mail.payload, r, vars));
    }
    for (const [rawName, cfg] of Object.entries(r.processors)) {
      const name = rawName.toLowerCase();
      if (name !== "webhook" && name !== "mail") continue;
      if (!shouldNotify(whenOf(cfg, "always"), r.success, r.previousSuccess)) continue;
      if (name === "webhook") {
        let headers: Array<[string, string]> = [];
        try {
          headers = parseHeaders(cfg.headers ?? "", "webhook headers");
        } catch (e) {
          this.#deps.log(`tock: job webhook for ${id} not sent: ${errorMessage(e)}`);
          continue;
        }
        const target: WebhookTarget = {
          url: cfg.url ?? "",
          payload: cfg.payload || c.webhook?.payload || "{{json .Report}}",
          headers,
        };
        this.#enqueue(this.#webhook(`job webhook for ${id}`, target, vars));
      } else if (c.mail) {
        const to = (cfg.to || r.ownerEmail).split(",").map((t) => t.trim()).filter((t) => t);
        if (to.length === 0) continue;
        this.#enqueue(this.#mail(`job mail for ${id}`, c.mail, to, cfg.payload ?? "", r, vars));
      }
    }
  }

  /** Cancels queued retries and in-flight attempts (node shutdown). */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) this.#deps.clock.clearTimer(t);
    this.#timers.clear();
    for (const a of this.#inFlight) a.abort();
  }

  #webhook(what: string, hook: WebhookTarget, vars: ReturnType<typeof templateVars>): Delivery {
    const body = render(hook.payload, vars);
    const headers = new Headers();
    for (const [k, v] of hook.headers) headers.append(k, render(v, vars));
    return {
      what,
      attempt: 0,
      async send(signal) {
        const res = await fetch(hook.url, { method: "POST", body, headers, signal });
        await res.body?.cancel();
        // Dkron ignored the status; a 5xx or 4xx here is retried like a transport error.
        if (res.status < 200 || res.status > 299) {
          throw new Error(`${hook.url} answered ${res.status}`);
        }
      },
    };
  }

  #mail(
    what: string,
    server: MailServer,
    to: string[],
    payload: string,
    r: ReportInput,
    vars: ReturnType<typeof templateVars>,
  ): Delivery {
    const subject = `${server.subjectPrefix}${
      r.success ? "Success" : "Failed"
    } ${r.jobName} execution report`;
    const text = payload === "" ? r.output : render(payload, vars);
    return {
      what,
      attempt: 0,
      send: (signal) => sendMail(server, { to, subject, text }, signal),
    };
  }

  #enqueue(d: Delivery): void {
    if (this.#stopped) return;
    if (this.#pending >= limits.notifyQueueMax) {
      this.abandoned++;
      this.#deps.log(`tock: ${d.what} dropped: ${limits.notifyQueueMax} notifications are pending`);
      return;
    }
    this.#pending++;
    this.#attempt(d);
  }

  #attempt(d: Delivery): void {
    d.attempt++;
    const abort = new AbortController();
    this.#inFlight.add(abort);
    const clock = this.#deps.clock;
    const timer = clock.setTimer(clock.nowMs() + limits.notifyTimeoutMs, () => abort.abort());
    d.send(abort.signal).then(
      () => {
        this.delivered++;
        this.#pending--;
      },
      (e) => {
        const why = abort.signal.aborted && !this.#stopped
          ? `timed out after ${limits.notifyTimeoutMs} ms`
          : errorMessage(e);
        if (this.#stopped || d.attempt >= limits.webhookAttemptsMax) {
          this.abandoned++;
          this.#pending--;
          this.#deps.log(`tock: ${d.what} failed after ${d.attempt} attempt(s), given up: ${why}`);
          return;
        }
        const delay = limits.webhookRetryDelayMs * 2 ** (d.attempt - 1);
        this.#deps.log(
          `tock: ${d.what} attempt ${d.attempt} failed (${why}); retrying in ${delay} ms`,
        );
        const retry: TimerHandle = clock.setTimer(clock.nowMs() + delay, () => {
          this.#timers.delete(retry);
          this.#attempt(d);
        });
        this.#timers.add(retry);
      },
    ).finally(() => {
      clock.clearTimer(timer);
      this.#inFlight.delete(abort);
    });
  }
}
