// A real browser for the dashboard's tests: Debian's Chromium (installed by
// scripts/bootstrap.mjs --browser, as `npm test` runs it) driven by playwright-core,
// headless. Screenshots go to test-artifacts/ (not committed).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

const CANDIDATES = [process.env.SLUICE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
export const ARTIFACTS_DIR = join(import.meta.dirname, '..', '..', 'test-artifacts', 'dashboard');

export function chromiumPath(): string {
  const found = CANDIDATES.find((path): path is string => path !== undefined && existsSync(path));
  if (!found) throw new Error(`no Chromium found (looked at ${CANDIDATES.filter(Boolean).join(', ')}): run \`node scripts/bootstrap.mjs --browser\` (npm test does), or set SLUICE_CHROMIUM`);
  return found;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/** A screenshot of the page as it is, for a person to look at after the run: the whole page, or what the window shows of a very long one. */
export async function screenshot(page: Page, name: string, { fullPage = true } = {}): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), fullPage });
}
