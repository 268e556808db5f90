import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

/** Debian's package (scripts/install-chromium.mjs installs it): Playwright's own browser downloads are never used. */
export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

export interface TestBrowser {
  context: BrowserContext;
  /** Every request the pages made to anything but loopback: refused, and listed so a test can say there were none. */
  offLoopback: string[];
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh profile of its own, refusing every request that would leave loopback: the
 * dashboard must need nothing but the gateway it came from.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "atomic-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 1000 } });
  const offLoopback: string[] = [];
  await context.route((url) => !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname), (route) => {
    offLoopback.push(route.request().url());
    return route.abort("blockedbyclient");
  });
  return {
    context,
    offLoopback,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
