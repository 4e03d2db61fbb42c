// Proves the committed src/api/ui_assets.gen.ts is what scripts/build_ui.ts makes from ui/ now
// (so an edit to ui/ without regenerating fails CI), that the build is deterministic and
// independent of the checkout's path, and that this check does notice a changed UI source.
import { expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { assetsModulePath, renderUiAssets, uiDir } from "./build_ui.ts";

const repoRoot = resolve(import.meta.dir, "..");

test("the committed ui_assets.gen.ts is up to date with ui/ (else: bun run scripts/build_ui.ts)", async () => {
  const fresh = await renderUiAssets();
  const committed = readFileSync(assetsModulePath, "utf8");
  expect(committed === fresh).toBe(true);
});

test("building twice gives byte-identical modules", async () => {
  expect(await renderUiAssets()).toBe(await renderUiAssets());
});

/**
 * A copy of what the UI build reads, laid out as the repository is, elsewhere: ui/, the
 * generated clients it imports from src/gen, package.json and node_modules (linked: packages
 * are not part of what varies between checkouts). Returns the copy's ui/ folder.
 */
function cloneUi(root: string): string {
  cpSync(uiDir, join(root, "ui"), { recursive: true });
  cpSync(join(repoRoot, "src/gen"), join(root, "src/gen"), { recursive: true });
  symlinkSync(join(repoRoot, "node_modules"), join(root, "node_modules"));
  // "type": "module" decides how CommonJS packages are imported (the interop the bundle emits).
  cpSync(join(repoRoot, "package.json"), join(root, "package.json"));
  return join(root, "ui");
}

test("the module does not depend on where the repository lives (a clone builds the same)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tock-ui-"));
  try {
    const ui = cloneUi(dir);
    expect(await renderUiAssets(ui) === readFileSync(assetsModulePath, "utf8")).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a changed UI source gives a different module (the staleness check can fail)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tock-ui-"));
  try {
    const ui = cloneUi(dir);
    const css = join(ui, "style.css");
    writeFileSync(css, readFileSync(css, "utf8") + "\nbody { outline: 1px solid red; }\n");
    const changed = await renderUiAssets(ui);
    expect(changed).not.toBe(readFileSync(assetsModulePath, "utf8"));
    expect(changed).toContain("export const uiAssets");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
