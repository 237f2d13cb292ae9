/**
 * Browser-test harness (not exported from the package): Debian's Chromium driven by playwright-core.
 * Like `describeWith` for services, a missing browser skips locally and FAILS under CI=true, so a
 * green CI always means the page was exercised in a real browser.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { type Browser, chromium } from 'playwright-core';
import { describe } from 'vitest';
import { type Service, describeWith } from '../../../../test/services.js';

/** Debian's package `chromium` (installed by scripts/ci-extra.sh); never a downloaded browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless, sandbox-free (root in CI containers) and silent: no update, sync or background traffic. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let available: Promise<boolean> | undefined;

/** Whether Chromium is installed; under CI a missing one throws (fails the file). */
export async function chromiumAvailable(): Promise<boolean> {
  available ??= access(CHROMIUM_PATH, constants.X_OK).then(
    () => true,
    () => false,
  );
  const ok = await available;
  if (!ok && process.env.CI) {
    throw new Error(
      `chromium is required under CI=true but ${CHROMIUM_PATH} is missing (scripts/ci-extra.sh runs apt-get install -y chromium)`,
    );
  }
  return ok;
}

/**
 * `describe` that needs Chromium plus the given services (see test/services.ts).
 *
 * @example
 * ```ts
 * await describeWithBrowser(['postgres', 'redis'], '/agents in a browser', () => { it(...) });
 * ```
 */
export async function describeWithBrowser(services: Service[], name: string, fn: () => void): Promise<void> {
  if (!(await chromiumAvailable())) {
    describe.skip(`${name} (needs chromium at ${CHROMIUM_PATH})`, fn);
    return;
  }
  await describeWith(services, name, fn);
}

/** Launches headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 90_000 });
}
