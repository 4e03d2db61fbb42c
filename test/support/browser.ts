/**
 * The one way the browser tests and bench/ui.ts start Chromium: headless, from the distro's
 * package (.ci/run installs it), through playwright-core (which ships no browser of its own).
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const chromiumPath = "/usr/bin/chromium";
/** Browser tests skip themselves when this is false. */
export const hasChromium = existsSync(chromiumPath);

/**
 * Headless Chromium without a sandbox (containers run as root), GPU, QUIC, first-run UI or
 * background traffic (updates, sync), so only the page under test uses the network.
 */
export async function launchChromium(): Promise<Browser> {
  return await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
