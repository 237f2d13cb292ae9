/**
 * Helpers of the /agents browser test (test support, not exported from the package): running the
 * command the page shows, capturing logs, polling page expressions under the page's CSP, and a
 * local HTTP server that holds a request open (a task the agent stays busy with).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { waitFor } from '../../../../test/support/wait-for.js';

/** Repository root (where `pnpm --filter …` commands run). */
export const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));

export interface AgentProc {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Spawns the command exactly as shown on the page, plus test-only flags (own config file, name). */
export function runShownCommand(command: string, extra: string[], home: string): AgentProc {
  const [bin, ...args] = command.split(' ');
  // Own process group so cleanup can stop pnpm, tsx and the agent together.
  const child = spawn(bin!, [...args, ...extra], {
    cwd: ROOT,
    env: { ...process.env, HOME: home, CI: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export function capture(lines: string[]): Writable {
  return new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
}

/** Polls a page expression (CDP evaluation, unaffected by the page's CSP) until it is truthy. */
export async function until(page: Page, expression: string, explain?: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(() => page.evaluate(expression), {
    what: expression,
    timeoutMs,
    intervalMs: 100,
    ...(explain ? { detail: async () => String(await page.evaluate(explain)) } : {}),
  });
}

/** Page expression naming the elements that stick out to the right (to explain a layout failure). */
export const WIDE_ELEMENTS = `JSON.stringify({
  scrollWidth: document.documentElement.scrollWidth,
  clientWidth: document.documentElement.clientWidth,
  innerWidth: window.innerWidth,
  wide: [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth)
    .map((e) => e.tagName + '.' + e.className + ' right=' + e.getBoundingClientRect().right)
    .slice(0, 10),
})`;

/** An HTTP server whose first request is held open until release(): a task the agent is busy with. */
export function holdingServer() {
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  let arrived!: () => void;
  const arrivedP = new Promise<void>((r) => {
    arrived = r;
  });
  const server = createServer((_req, res) => {
    arrived();
    void released.then(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('done'));
  });
  return {
    url: '',
    arrived: arrivedP,
    release,
    async start() {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async close() {
      release();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
