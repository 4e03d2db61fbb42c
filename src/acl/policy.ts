/**
 * ACL policies (Nomad/Consul's model): a policy grants job capabilities on job-name globs and
 * operator capability on cluster areas. Parsed once from untrusted JSON with every problem named.
 */
import { invalid, limits } from "../lib/mod.ts";

export const jobCapabilities = ["read", "list", "write", "run", "kill", "delete"] as const;
export type JobCapability = (typeof jobCapabilities)[number];

/** Cluster areas the `operator` capability is granted on. */
export const operatorAreas = [
  "members",
  "raft",
  "leave",
  "pause",
  "restore",
  "metrics",
  "audit",
] as const;
export type OperatorArea = (typeof operatorAreas)[number];

export interface JobRule {
  /** Job-name glob: `*` any run of characters, `?` one character. */
  glob: string;
  capabilities: JobCapability[];
}

export interface Policy {
  name: string;
  description: string;
  jobs: JobRule[];
  operator: OperatorArea[];
}

/** Policy and token names: short, printable, usable in a URL path segment. */
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkAclName(what: string, name: unknown): string {
  if (typeof name !== "string" || !namePattern.test(name)) {
    throw invalid(
      `${what} ${
        JSON.stringify(name)
      } is not valid: use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return name;
}

/**
 * Parses a policy document:
 * `{"name": "ops", "description": "...", "jobs": {"backup-*": ["read", "run"]}, "operator": ["pause"]}`.
 * `"*"` in a capability list grants every job capability; `"*"` in operator grants every area.
 */
export function parsePolicy(doc: unknown): Policy {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw invalid("policy must be a JSON object with name, description, jobs and operator");
  }
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!["name", "description", "jobs", "operator"].includes(k)) {
      throw invalid(`policy: unknown field "${k}" (known: name, description, jobs, operator)`);
    }
  }
  const name = checkAclName("policy name", o["name"]);
  const description = o["description"] ?? "";
  if (typeof description !== "string" || description.length > limits.fieldCharsMax) {
    throw invalid(
      `policy "${name}": description must be a string of at most ${limits.fieldCharsMax} characters`,
    );
  }
  const jobs: JobRule[] = [];
  const rawJobs = o["jobs"] ?? {};
  if (rawJobs === null || typeof rawJobs !== "object" || Array.isArray(rawJobs)) {
    throw invalid(`policy "${name}": jobs must map a job-name glob to a list of capabilities`);
  }
  const entries = Object.entries(rawJobs as Record<string, unknown>);
  if (entries.length > limits.aclRulesMax) {
    throw invalid(
      `policy "${name}": ${entries.length} job rules, above the limit ${limits.aclRulesMax}`,
    );
  }
  for (const [glob, caps] of entries) {
    if (glob === "" || glob.length > limits.jobNameCharsMax) {
      throw invalid(`policy "${name}": job glob must be 1 to ${limits.jobNameCharsMax} characters`);
    }
    if (!Array.isArray(caps)) {
      throw invalid(`policy "${name}": jobs["${glob}"] must be a list of capabilities`);
    }
    const out = new Set<JobCapability>();
    for (const c of caps) {
      if (c === "*") jobCapabilities.forEach((x) => out.add(x));
      else if ((jobCapabilities as readonly unknown[]).includes(c)) out.add(c as JobCapability);
      else if (c === "operator") {
        throw invalid(
          `policy "${name}": "operator" is granted on cluster areas, not jobs: use "operator": [${
            operatorAreas.map((a) => `"${a}"`).join(", ")
          }]`,
        );
      } else {
        throw invalid(
          `policy "${name}": unknown capability ${JSON.stringify(c)} on jobs["${glob}"]; use ${
            jobCapabilities.join(", ")
          } or *`,
        );
      }
    }
    jobs.push({ glob, capabilities: jobCapabilities.filter((x) => out.has(x)) });
  }
  const rawOp = o["operator"] ?? [];
  if (!Array.isArray(rawOp)) {
    throw invalid(
      `policy "${name}": operator must be a list of areas (${operatorAreas.join(", ")}) or ["*"]`,
    );
  }
  const areas = new Set<OperatorArea>();
  for (const a of rawOp) {
    if (a === "*") operatorAreas.forEach((x) => areas.add(x));
    else if ((operatorAreas as readonly unknown[]).includes(a)) areas.add(a as OperatorArea);
    else {
      throw invalid(
        `policy "${name}": unknown operator area ${JSON.stringify(a)}; use ${
          operatorAreas.join(", ")
        } or *`,
      );
    }
  }
  return { name, description, jobs, operator: operatorAreas.filter((x) => areas.has(x)) };
}

/**
 * Glob match with `*` (any run, also empty) and `?` (one character). Linear backtracking over
 * the last star, so a hostile glob cannot blow up (no regex).
 */
export function globMatch(glob: string, text: string): boolean {
  let g = 0, t = 0, star = -1, mark = 0;
  while (t < text.length) {
    if (g < glob.length && (glob[g] === "?" || glob[g] === text[t])) {
      g++;
      t++;
    } else if (g < glob.length && glob[g] === "*") {
      star = g++;
      mark = t;
    } else if (star !== -1) {
      g = star + 1;
      t = ++mark;
    } else return false;
  }
  while (g < glob.length && glob[g] === "*") g++;
  return g === glob.length;
}
