/**
 * Cluster-wide notification settings, spelled as Dkron's agent keys (flags, TOCK_* env, config
 * file), checked once at start. The CLI collects the raw values; this module owns their meaning.
 */
import { checkTemplate } from "./_template.ts";

export const notifyConfigKeys = [
  "webhook-endpoint",
  "webhook-payload",
  "webhook-headers",
  "pre-webhook-endpoint",
  "pre-webhook-payload",
  "pre-webhook-headers",
  "mail-host",
  "mail-port",
  "mail-username",
  "mail-password",
  "mail-from",
  "mail-payload",
  "mail-subject-prefix",
  "notify-when",
] as const;
export type NotifyConfigKey = (typeof notifyConfigKeys)[number];

export const whenValues = ["always", "failure", "change"] as const;
export type When = (typeof whenValues)[number];

export interface WebhookTarget {
  url: string;
  payload: string;
  headers: Array<[string, string]>;
}

export interface MailServer {
  host: string;
  port: number;
  username: string;
  password: string;
  from: string;
  payload: string;
  subjectPrefix: string;
}

export interface NotifyConfig {
  webhook: WebhookTarget | undefined;
  preWebhook: WebhookTarget | undefined;
  mail: MailServer | undefined;
  /** When the cluster-wide webhook and mail fire: Dkron sends after every run (always). */
  when: When;
}

export const emptyNotifyConfig: NotifyConfig = {
  webhook: undefined,
  preWebhook: undefined,
  mail: undefined,
  when: "always",
};

/** "Name: value" entries (a list, a JSON array string, or one entry) split at the first colon. */
export function parseHeaders(value: unknown, key: string): Array<[string, string]> {
  let list: unknown = value;
  if (typeof value === "string") {
    if (value.trim() === "") return [];
    if (value.trim().startsWith("[")) {
      try {
        list = JSON.parse(value);
      } catch {
        throw new Error(`${key} ${JSON.stringify(value)} is not a JSON array of "Name: value"`);
      }
    } else list = [value];
  }
  if (!Array.isArray(list)) throw new Error(`${key} must be a list of "Name: value" entries`);
  return list.map((h) => {
    const colon = typeof h === "string" ? h.indexOf(":") : -1;
    if (colon <= 0) throw new Error(`${key} entry ${JSON.stringify(h)} is not "Name: value"`);
    const s = h as string;
    return [s.slice(0, colon).trim(), s.slice(colon + 1).trim()];
  });
}

function str(raw: Partial<Record<NotifyConfigKey, unknown>>, key: NotifyConfigKey): string {
  const v = raw[key];
  if (v === undefined || v === null) return "";
  if (typeof v !== "string" && typeof v !== "number") throw new Error(`${key} must be a string`);
  return String(v);
}

function template(raw: Partial<Record<NotifyConfigKey, unknown>>, key: NotifyConfigKey): string {
  const t = str(raw, key);
  const bad = checkTemplate(t);
  if (bad) throw new Error(`${key}: ${bad}`);
  return t;
}

function webhook(
  raw: Partial<Record<NotifyConfigKey, unknown>>,
  prefix: "webhook" | "pre-webhook",
): WebhookTarget | undefined {
  const url = str(raw, `${prefix}-endpoint`);
  const payload = template(raw, `${prefix}-payload`);
  const headers = parseHeaders(raw[`${prefix}-headers`] ?? "", `${prefix}-headers`);
  // Dkron sends only when both the endpoint and the payload are set.
  if (url === "" || payload === "") return undefined;
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
  } catch {
    throw new Error(`${prefix}-endpoint "${url}" is not an http(s) URL`);
  }
  return { url, payload, headers };
}

/** Reads the raw key values into a NotifyConfig; throws an Error naming the bad key. */
export function parseNotifyConfig(raw: Partial<Record<NotifyConfigKey, unknown>>): NotifyConfig {
  for (const k of Object.keys(raw)) {
    if (!(notifyConfigKeys as readonly string[]).includes(k)) {
      throw new Error(`unknown notification key "${k}"`);
    }
  }
  const when = str(raw, "notify-when") || "always";
  if (!(whenValues as readonly string[]).includes(when)) {
    throw new Error(`notify-when "${when}" is not one of ${whenValues.join(", ")}`);
  }
  let mail: MailServer | undefined;
  const host = str(raw, "mail-host");
  const portText = str(raw, "mail-port");
  if (portText !== "" && (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535)) {
    throw new Error(`mail-port "${portText}" is not a TCP port`);
  }
  // Dkron mails only when mail-host is set and mail-port is not 0.
  if (host !== "" && portText !== "" && Number(portText) !== 0) {
    mail = {
      host,
      port: Number(portText),
      username: str(raw, "mail-username"),
      password: str(raw, "mail-password"),
      from: str(raw, "mail-from"),
      payload: template(raw, "mail-payload"),
      subjectPrefix: raw["mail-subject-prefix"] === undefined
        ? "[Tock]"
        : str(raw, "mail-subject-prefix"),
    };
  }
  return {
    webhook: webhook(raw, "webhook"),
    preWebhook: webhook(raw, "pre-webhook"),
    mail,
    when: when as When,
  };
}
