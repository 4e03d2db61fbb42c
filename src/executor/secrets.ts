/**
 * Job secrets that never enter replicated state: an executor_config value may reference
 * `${env:TOCK_SECRET_NAME}` (an environment variable of the worker agent) or `${file:/path}` (a
 * file on the worker). The job stores and the API returns the reference; the worker resolves it
 * just before the run, and every resolved value is replaced by `[redacted]` in the output (live,
 * stored and the replicated tail) and in the error message.
 */
import { readFileSync, statSync } from "node:fs";
import process from "node:process";
import { limits } from "../lib/mod.ts";
import type { ExecutionRequest, ExecutionResult, Executor } from "./_types.ts";

/** Environment references are limited to this prefix: the agent's other variables stay private. */
export const secretEnvPrefix = "TOCK_SECRET_";
const refPattern = /\$\{(env|file):([^}]*)\}/g;
const marker = "[redacted]";

/** Agent variables a job never inherits: its secrets and the CLI token. */
export function isAgentSecretEnv(name: string): boolean {
  return name.startsWith(secretEnvPrefix) || name === "TOCK_TOKEN";
}

/** Why a config's references are unusable (unknown scheme, bad name), or undefined. */
export function checkSecretRefs(config: Record<string, string>): string | undefined {
  for (const [key, value] of Object.entries(config)) {
    for (const m of value.matchAll(/\$\{([a-z]+):([^}]*)\}/g)) {
      const [, scheme, arg] = m as unknown as [string, string, string];
      if (scheme === "env" && !new RegExp(`^${secretEnvPrefix}[A-Z0-9_]+$`).test(arg)) {
        return `executor_config.${key}: secret reference \${env:${arg}} must name a variable ${secretEnvPrefix}* (upper case, digits, _)`;
      }
      if (scheme === "file" && !arg.startsWith("/")) {
        return `executor_config.${key}: secret reference \${file:${arg}} must be an absolute path`;
      }
      if (scheme !== "env" && scheme !== "file") {
        return `executor_config.${key}: unknown secret reference \${${scheme}:...}; use \${env:${secretEnvPrefix}NAME} or \${file:/path}`;
      }
    }
  }
  return undefined;
}

export interface SecretSource {
  env(name: string): string | undefined;
  readFile(path: string): string;
  /** Every TOCK_SECRET_* value on this node: redacted from every run, referenced or not. */
  allEnvSecrets(): string[];
}

export const processSecrets: SecretSource = {
  env: (name) => process.env[name],
  allEnvSecrets: () =>
    Object.entries(process.env).filter(([k, v]) =>
      isAgentSecretEnv(k) && v !== undefined && v !== ""
    )
      .map(([, v]) => v as string),
  readFile(path) {
    const size = statSync(path).size;
    if (size > limits.secretBytesMax) {
      throw new Error(`is ${size} bytes, above the limit ${limits.secretBytesMax}`);
    }
    return readFileSync(path, "utf8");
  },
};

/** The config with references replaced, and the values used (to redact). Throws naming the ref. */
export function resolveSecrets(
  config: Record<string, string>,
  source: SecretSource,
): { config: Record<string, string>; values: string[] } {
  const values = new Set<string>();
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    out[key] = value.replace(refPattern, (_, scheme: string, arg: string) => {
      let v: string | undefined;
      if (scheme === "env") {
        v = source.env(arg);
        if (v === undefined) {
          throw new Error(`secret \${env:${arg}} of executor_config.${key}: not set on this node`);
        }
      } else {
        try {
          v = source.readFile(arg).replace(/\r?\n$/, "");
        } catch (e) {
          throw new Error(
            `secret \${file:${arg}} of executor_config.${key}: cannot read it on this node: ${
              (e as Error).message
            }`,
          );
        }
      }
      if (v !== "") values.add(v);
      return v;
    });
  }
  return { config: out, values: [...values].sort((a, b) => b.length - a.length) };
}

/**
 * Replaces secret values in a byte stream. Bytes that could still be the start of a secret
 * (the chunk ended inside it) are held back until the next chunk or flush() decides them.
 */
export class Redactor {
  readonly #secrets: Uint8Array[];
  #pending: Uint8Array = new Uint8Array(0);
  static readonly #marker = new TextEncoder().encode(marker);

  constructor(values: string[]) {
    const enc = new TextEncoder();
    this.#secrets = values.filter((v) => v !== "").map((v) => enc.encode(v))
      .sort((a, b) => b.length - a.length);
  }

  /** Redacted bytes safe to pass on now. */
  push(chunk: Uint8Array): Uint8Array {
    const all = new Uint8Array(this.#pending.length + chunk.length);
    all.set(this.#pending);
    all.set(chunk, this.#pending.length);
    const { out, rest } = this.#replace(all, false);
    this.#pending = rest;
    return out;
  }

  flush(): Uint8Array {
    const { out } = this.#replace(this.#pending, true);
    this.#pending = new Uint8Array(0);
    return out;
  }

  /**
   * Redacts whole occurrences, longest secret first. Unless `final`, stops at the first position
   * where the buffer ends inside a possible secret and returns the bytes from there as `rest`.
   */
  #replace(buf: Uint8Array, final: boolean): { out: Uint8Array; rest: Uint8Array } {
    const parts: number[] = [];
    for (let i = 0; i < buf.length;) {
      if (!final && this.#secrets.some((s) => buf.length - i < s.length && isPrefixAt(buf, i, s))) {
        return { out: Uint8Array.from(parts), rest: buf.slice(i) };
      }
      const hit = this.#secrets.find((s) => startsAt(buf, i, s));
      if (hit !== undefined) {
        for (const b of Redactor.#marker) parts.push(b);
        i += hit.length;
      } else parts.push(buf[i++] as number);
    }
    return { out: Uint8Array.from(parts), rest: new Uint8Array(0) };
  }
}

/** Whether buf[at..] (shorter than s) is a prefix of s. */
function isPrefixAt(buf: Uint8Array, at: number, s: Uint8Array): boolean {
  for (let k = 0; at + k < buf.length; k++) if (buf[at + k] !== s[k]) return false;
  return true;
}

function startsAt(buf: Uint8Array, at: number, s: Uint8Array): boolean {
  if (at + s.length > buf.length) return false;
  for (let k = 0; k < s.length; k++) if (buf[at + k] !== s[k]) return false;
  return true;
}

export function redactText(text: string, values: string[]): string {
  let out = text;
  for (const v of values) if (v !== "") out = out.split(v).join(marker);
  return out;
}

/** Wraps an executor so references resolve at run time and their values never leave redacted. */
export function withSecrets(inner: Executor, source: SecretSource = processSecrets): Executor {
  return {
    name: inner.name,
    validate(config) {
      return checkSecretRefs(config) ?? inner.validate(config);
    },
    async run(req: ExecutionRequest): Promise<ExecutionResult> {
      let resolved: { config: Record<string, string>; values: string[] };
      try {
        resolved = resolveSecrets(req.config, source);
      } catch (e) {
        return {
          success: false,
          exitCode: null,
          error: (e as Error).message,
          outputBytes: 0,
          truncated: false,
        };
      }
      // Also every TOCK_SECRET_* value of the node: a job reading the agent's environment some
      // other way (e.g. /proc) still cannot print one.
      const values = [...new Set([...resolved.values, ...source.allEnvSecrets()])];
      if (values.length === 0) return await inner.run(req);
      resolved = { config: resolved.config, values };
      const redactor = new Redactor(values);
      const result = await inner.run({
        ...req,
        config: resolved.config,
        onOutput: (chunk) => {
          const clean = redactor.push(chunk);
          if (clean.length > 0) req.onOutput(clean);
        },
      });
      const rest = redactor.flush();
      if (rest.length > 0) req.onOutput(rest);
      const enc = new TextEncoder();
      const tail = result.tail === undefined ? undefined : enc.encode(
        redactText(new TextDecoder().decode(result.tail), resolved.values),
      );
      return {
        ...result,
        error: redactText(result.error, resolved.values),
        ...(tail === undefined ? {} : { tail }),
      };
    },
  };
}
