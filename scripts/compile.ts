/**
 * Builds the single `tock` executable: `bun build --compile --minify-syntax --minify-whitespace
 * --sourcemap --bytecode src/main.ts`.
 * The web UI is embedded because src/api/ui.ts imports src/api/ui_assets.gen.ts (base64
 * strings), which this script regenerates from ui/ first, so the binary runs from an empty
 * directory. Bytecode is on by default: it halves start-up time for ~4 MB more file
 * (bench/startup.ts measures both); --no-bytecode gives the plain build.
 * Usage: bun run scripts/compile.ts [--outfile dist/tock] [--entry src/main.ts]
 *          [--target bun-linux-x64] [--no-bytecode] [--skip-ui]
 */
import { mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { writeUiAssets } from "./build_ui.ts";

const root = resolve(import.meta.dir, "..");

export interface CompileOptions {
  /** Entry module, relative to the repository root. */
  entry: string;
  /** Output executable, relative to the repository root. */
  outfile: string;
  /** Cross-compile target such as `bun-linux-arm64` (the runtime comes from the npm registry). */
  target?: string;
  /** Precompile to bytecode: faster start, slightly larger file. */
  bytecode: boolean;
  /** Do not regenerate the UI assets module first. */
  skipUi: boolean;
}

export interface CompileResult {
  outfile: string;
  bytes: number;
  uiRegenerated: boolean;
  ms: number;
}

/** Compiles the executable; throws with bun's output when the build fails. */
export async function compile(opts: CompileOptions): Promise<CompileResult> {
  const t0 = performance.now();
  const uiRegenerated = opts.skipUi ? false : await writeUiAssets();
  const outfile = resolve(root, opts.outfile);
  mkdirSync(dirname(outfile), { recursive: true });
  // Stacks (printed at --log-level debug) must name real functions, files and lines: the source
  // map is embedded (--sourcemap) and identifiers are not minified (--keep-names alone still
  // leaves mangled names in stacks); this costs < 1 MB of a ~110 MB binary.
  const args = [
    "build",
    "--compile",
    "--minify-syntax",
    "--minify-whitespace",
    "--sourcemap",
    resolve(root, opts.entry),
    "--outfile",
    outfile,
  ];
  // Bytecode needs ESM output to keep main.ts's top-level await.
  if (opts.bytecode) args.push("--bytecode", "--format=esm");
  if (opts.target !== undefined) args.push(`--target=${opts.target}`);
  const proc = Bun.spawnSync([process.execPath, ...args], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (proc.exitCode !== 0) {
    throw new Error(
      `compile: bun ${
        args.join(" ")
      } exited ${proc.exitCode}\n${proc.stdout.toString()}${proc.stderr.toString()}`,
    );
  }
  return { outfile, bytes: statSync(outfile).size, uiRegenerated, ms: performance.now() - t0 };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      entry: { type: "string", default: "src/main.ts" },
      outfile: { type: "string", default: "dist/tock" },
      target: { type: "string" },
      "no-bytecode": { type: "boolean", default: false },
      "skip-ui": { type: "boolean", default: false },
    },
  });
  try {
    const r = await compile({
      entry: values.entry,
      outfile: values.outfile,
      ...(values.target !== undefined ? { target: values.target } : {}),
      bytecode: !values["no-bytecode"],
      skipUi: values["skip-ui"],
    });
    if (r.uiRegenerated) console.log("compile: ui changed: regenerated src/api/ui_assets.gen.ts");
    console.log(
      `compile: ${r.outfile} (${(r.bytes / 1e6).toFixed(1)} MB) in ${(r.ms / 1000).toFixed(2)} s`,
    );
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
