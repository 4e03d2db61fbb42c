/**
 * Boundary checks the type-checker cannot express (CONVENTIONS.md "Shape"):
 *  1. `Bun.` / `Deno.` and `bun:` imports appear only in src/runtime/.
 *  2. Pure cores (raft, gossip, schedule, state) import no IO and never read the clock or
 *     randomness, and never await.
 *  3. A folder of src/ is imported by another folder only through its `mod.ts`.
 *  4. Forbidden arrows between folders (DESIGN.md §4): nothing but cli/ imports api/; nothing
 *     imports cli/ (main.ts, outside any folder, starts it); the two protocol stacks stay apart
 *     (raft/ ↔ gossip/, consensus/ ↔ net/).
 * Usage: bun scripts/check.ts [root]   (exit 1 and one line per violation when broken)
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const pureCores = new Set([
  "raft",
  "gossip",
  "schedule",
  "state",
  "membership",
  "acl",
  "dispatch",
]);
/** Packages a pure core may import: parsing and generated-message support only. */
const pureAllowedPackages = new Set(["croner", "@bufbuild/protobuf", "@bufbuild/protobuf/wkt"]);
const impure: Array<[RegExp, string]> = [
  [/\bDate\.now\s*\(/, "reads the clock (Date.now)"],
  [/\bnew Date\s*\(\s*\)/, "reads the clock (new Date())"],
  [/\bperformance\.now\s*\(/, "reads the clock (performance.now)"],
  [/\bMath\.random\s*\(/, "uses Math.random"],
  [/\b(setTimeout|setInterval|queueMicrotask)\s*\(/, "uses timers"],
  [/\bawait\b/, "awaits"],
  [/\basync\s+(function|\(|[a-zA-Z_$][\w$]*\s*\()/, "declares an async function"],
  [/\bprocess\./, "touches process"],
  [/\bfetch\s*\(/, "does network IO (fetch)"],
];

/** [from folder, to folder, why]; "*" matches every folder. */
const forbiddenArrows: Array<[string, string, string]> = [
  ["*", "api", "only the composition root in cli/ builds the HTTP app"],
  ["*", "cli", "nothing imports the command line; main.ts starts it"],
  ["raft", "gossip", "consensus and membership protocols are independent"],
  ["gossip", "raft", "consensus and membership protocols are independent"],
  ["consensus", "net", "the Raft shell and the gossip shell are independent"],
  ["net", "consensus", "the Raft shell and the gossip shell are independent"],
];

function forbidden(from: string, to: string): string | undefined {
  for (const [f, t, why] of forbiddenArrows) {
    if ((f === "*" || f === from) && t === to && from !== to) {
      if (to === "api" && from === "cli") continue;
      return why;
    }
  }
  return undefined;
}

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

export function checkTree(root: string): string[] {
  const src = resolve(root, "src");
  const problems: string[] = [];
  for (const file of walk(src)) {
    const rel = relative(src, file);
    const [folder] = rel.split("/");
    if (folder === "gen") continue;
    const isTest = rel.endsWith("_test.ts");
    const inFolder = rel.includes("/");
    const text = stripComments(readFileSync(file, "utf8"));
    const lines = text.split("\n");
    lines.forEach((line, i) => {
      const at = `src/${rel}:${i + 1}`;
      if (folder !== "runtime" && /\b(Bun|Deno)\.[a-zA-Z]/.test(line)) {
        problems.push(`${at}: Bun./Deno. outside src/runtime/`);
      }
      if (folder !== "runtime" && /from\s+["']bun:(?!test)/.test(line)) {
        problems.push(`${at}: bun: import outside src/runtime/`);
      }
      if (inFolder && pureCores.has(folder as string) && !isTest) {
        for (const [re, what] of impure) {
          if (re.test(line)) problems.push(`${at}: pure core ${folder}/ ${what}`);
        }
      }
    });
    const imports = [...text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) =>
      m[1] as string
    );
    for (const spec of imports) {
      if (spec.startsWith(".")) {
        const target = relative(src, resolve(dirname(file), spec));
        const [targetFolder, ...restParts] = target.split("/");
        const rest = restParts.join("/");
        if (target.startsWith("..")) continue;
        if (inFolder && targetFolder === folder) continue;
        if (targetFolder === "gen") continue; // generated messages are imported file by file
        const why = inFolder ? forbidden(folder as string, targetFolder as string) : undefined;
        if (why !== undefined) {
          problems.push(`src/${rel}: ${folder}/ must not import ${targetFolder}/ (${why})`);
        }
        if (restParts.length > 0 && rest !== "mod.ts") {
          problems.push(`src/${rel}: imports ${spec}; other folders are reached only via mod.ts`);
        }
        if (inFolder && pureCores.has(folder as string) && !isTest) {
          if (
            !["lib", "gen"].includes(targetFolder as string) &&
            !pureCores.has(targetFolder as string)
          ) {
            problems.push(
              `src/${rel}: pure core ${folder}/ imports ${targetFolder}/ (only lib/, gen/ and other pure cores)`,
            );
          }
        }
      } else if (inFolder && pureCores.has(folder as string) && !isTest) {
        if (!pureAllowedPackages.has(spec)) {
          problems.push(
            `src/${rel}: pure core ${folder}/ imports "${spec}" (IO or an unapproved package)`,
          );
        }
      }
    }
  }
  return problems;
}

if (import.meta.main) {
  const problems = checkTree(process.argv[2] ?? ".");
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`check: ${problems.length} boundary violation(s)`);
    process.exit(1);
  }
  console.log("check: boundaries ok");
}
