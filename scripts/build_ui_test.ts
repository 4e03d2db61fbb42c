// Proves the committed src/api/ui_assets.gen.ts is what scripts/build_ui.ts makes from ui/ now
// (so an edit to ui/ without regenerating fails CI), that the build is deterministic and
// independent of the checkout's path, and that this check does notice a changed UI source.
import { expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assetsModulePath, renderUiAssets, uiDir } from "./build_ui.ts";

test("the committed ui_assets.gen.ts is up to date with ui/ (else: bun run scripts/build_ui.ts)", async () => {
  const fresh = await renderUiAssets();
  const committed = readFileSync(assetsModulePath, "utf8");
  expect(committed === fresh).toBe(true);
});

test("building twice gives byte-identical modules", async () => {
  expect(await renderUiAssets()).toBe(await renderUiAssets());
});

test("the module does not depend on where the repository lives (a clone builds the same)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tock-ui-"));
  try {
    cpSync(uiDir, dir, { recursive: true });
    expect(await renderUiAssets(dir) === readFileSync(assetsModulePath, "utf8")).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a changed UI source gives a different module (the staleness check can fail)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tock-ui-"));
  try {
    cpSync(uiDir, dir, { recursive: true });
    const css = join(dir, "style.css");
    writeFileSync(css, readFileSync(css, "utf8") + "\nbody { outline: 1px solid red; }\n");
    const changed = await renderUiAssets(dir);
    expect(changed).not.toBe(readFileSync(assetsModulePath, "utf8"));
    expect(changed).toContain("export const uiAssets");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
