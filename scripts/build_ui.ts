/**
 * Bundles the web UI (ui/index.html and what it links) with `bun build` and writes
 * src/api/ui_assets.gen.ts: URL name → {contentType, etag, immutable, body as base64}. Base64 in
 * a plain module is the portable way to embed files: it works under `bun`, `deno run` and in the
 * `bun build --compile` binary alike, with nothing on disk (reference/runtime.md §5).
 * The generated file is committed so `bun src/main.ts` serves the UI without a build step;
 * scripts/build_ui_test.ts fails when it is out of date with ui/.
 * Usage: bun run scripts/build_ui.ts [--check]   (--check: exit 1 if the file is stale)
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";

const root = resolve(import.meta.dir, "..");
export const uiDir = join(root, "ui");
export const assetsModulePath = join(root, "src/api/ui_assets.gen.ts");

/** Content types by extension; the bundler's guess is the fallback. */
const contentTypes: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  json: "application/json; charset=utf-8",
  woff2: "font/woff2",
  txt: "text/plain; charset=utf-8",
};

export interface BuiltAsset {
  /** File name as the bundle links it (flat: bun emits every output beside index.html). */
  name: string;
  contentType: string;
  /** True when the name carries a content hash, so it may be cached forever. */
  immutable: boolean;
  bytes: Uint8Array;
}

const textExts = new Set(["html", "js", "css", "svg", "json", "txt"]);
const extOf = (name: string) => name.slice(name.lastIndexOf(".") + 1).toLowerCase();
const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/**
 * Runs the bundler on ui/index.html and returns every output file, sorted by name.
 * Bun's file-name hashes depend on the absolute source path, so a clone elsewhere would name
 * the same bytes differently (and the committed module would look stale). Hashed names are
 * therefore replaced by `<stem>-<first 8 hex of SHA-256 of the content>.<ext>`, renaming files
 * that reference no other hashed file first and rewriting the references in the rest.
 */
export async function buildUi(dir: string = uiDir): Promise<BuiltAsset[]> {
  const result = await Bun.build({
    entrypoints: [join(dir, "index.html")],
    minify: true,
    // Lazy chunks (charts, YAML) stay out of the first load.
    splitting: true,
    jsx: { runtime: "automatic", importSource: "preact", development: false },
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
  });
  if (!result.success) {
    throw new Error(`build_ui: bun build failed:\n${result.logs.map(String).join("\n")}`);
  }
  interface Out {
    name: string;
    type: string;
    hashed: boolean;
    /** Bun's own content hash (path-dependent), also used as a chunk id inside the JS. */
    hash: string;
    bytes: Uint8Array;
  }
  const outs: Out[] = [];
  for (const out of result.outputs) {
    const name = basename(out.path);
    const hashed = out.hash !== null && out.hash !== "" && name.includes(`-${out.hash}.`);
    outs.push({
      name,
      type: out.type,
      hashed,
      hash: out.hash ?? "",
      bytes: new Uint8Array(await out.arrayBuffer()),
    });
  }
  const rewrite = (from: string, to: string) => {
    for (const o of outs) {
      if (!textExts.has(extOf(o.name))) continue;
      const text = new TextDecoder().decode(o.bytes);
      if (text.includes(from)) o.bytes = new TextEncoder().encode(text.split(from).join(to));
    }
  };
  // Chunks from code splitting refer to each other (a lazy chunk imports the shared one and
  // the shared one loads it), so names cannot be settled leaf first. Each file's name hashes
  // its content with every hashed name in it masked (those carry the path-dependent part),
  // then all references are rewritten at once.
  const hashed = outs.filter((o) => o.hashed);
  const stemOf = (name: string) => name.slice(0, name.lastIndexOf("-"));
  const masked = (o: Out): Uint8Array => {
    if (!textExts.has(extOf(o.name))) return o.bytes;
    let text = new TextDecoder().decode(o.bytes);
    for (const h of hashed) {
      text = text.split(h.name).join(`${stemOf(h.name)}-*.${extOf(h.name)}`);
      text = text.split(`"${h.hash}"`).join(`"*"`);
    }
    return new TextEncoder().encode(text);
  };
  const renames = hashed.map((o) => {
    const hash = sha256Hex(masked(o)).slice(0, 8);
    return {
      from: o.name,
      to: `${stemOf(o.name)}-${hash}.${extOf(o.name)}`,
      fromHash: o.hash,
      hash,
    };
  });
  if (new Set(renames.map((r) => r.to)).size !== renames.length) {
    throw new Error(
      `build_ui: two bundle files would get the same name: ${renames.map((r) => r.to)}`,
    );
  }
  for (const r of renames) {
    const o = outs.find((x) => x.name === r.from) as Out;
    o.name = r.to;
  }
  for (const r of renames) {
    rewrite(r.from, r.to);
    rewrite(`"${r.fromHash}"`, `"${r.hash}"`);
  }
  const assets: BuiltAsset[] = outs.map((o) => ({
    name: o.name,
    contentType: contentTypes[extOf(o.name)] ?? o.type.replace(";charset=", "; charset="),
    immutable: o.hashed,
    bytes: o.bytes,
  }));
  assets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (!assets.some((a) => a.name === "index.html")) {
    throw new Error("build_ui: the bundle has no index.html");
  }
  return assets;
}

/** The generated module's text for a set of assets (deterministic; already deno-fmt clean). */
export function renderAssetsModule(assets: BuiltAsset[]): string {
  const lines = [
    "// Generated by scripts/build_ui.ts from ui/. Do not edit: run `bun run scripts/build_ui.ts`.",
    "",
    "/** One embedded UI file. `body` is base64 so the module runs unchanged on Bun and Deno. */",
    "export interface UiAsset {",
    "  contentType: string;",
    "  /** Strong validator: a quoted prefix of the SHA-256 of the bytes. */",
    "  etag: string;",
    "  /** The name carries a content hash: cache it for a year. */",
    "  immutable: boolean;",
    "  body: string;",
    "}",
    "",
    "/** Bundled UI files by name under /ui/. */",
    "export const uiAssets: Record<string, UiAsset> = {",
  ];
  for (const a of assets) {
    // Hex only, so single quotes need no escaping (the form deno fmt prefers here).
    const etag = `'"${sha256Hex(a.bytes).slice(0, 20)}"'`;
    lines.push(
      `  ${JSON.stringify(a.name)}: {`,
      `    contentType: ${JSON.stringify(a.contentType)},`,
      `    etag: ${etag},`,
      `    immutable: ${a.immutable},`,
      `    body:`,
      `      ${JSON.stringify(Buffer.from(a.bytes).toString("base64"))},`,
      `  },`,
    );
  }
  lines.push("};", "");
  return lines.join("\n");
}

/** Builds the UI and renders the module text that should be committed. */
export async function renderUiAssets(dir: string = uiDir): Promise<string> {
  return renderAssetsModule(await buildUi(dir));
}

function readOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Writes the module if it changed; returns whether it did. */
export async function writeUiAssets(): Promise<boolean> {
  const text = await renderUiAssets();
  if (readOr(assetsModulePath) === text) return false;
  writeFileSync(assetsModulePath, text);
  return true;
}

if (import.meta.main) {
  if (process.argv.includes("--check")) {
    const stale = readOr(assetsModulePath) !== await renderUiAssets();
    console.log(stale ? "build_ui: src/api/ui_assets.gen.ts is STALE" : "build_ui: up to date");
    process.exit(stale ? 1 : 0);
  }
  const changed = await writeUiAssets();
  console.log(`build_ui: src/api/ui_assets.gen.ts ${changed ? "written" : "already up to date"}`);
}
