/**
 * Collects the suite's figures (counts per fault, inputs tried, lost/duplicated/leaked) into
 * test-artifacts/chaos/report-<form>.json, merged across test files, for docs/reliability.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS } from './procs.js';
import { FULL, SEED } from './scale.js';

const file = join(ARTIFACTS, `report-${FULL ? 'full' : 'short'}.json`);

export function record(section: string, figures: Record<string, unknown>): void {
  mkdirSync(ARTIFACTS, { recursive: true });
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    // First section of this form.
  }
  all[section] = { ...figures, seed: SEED, at: new Date().toISOString() };
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
}

/** The planted canaries found in `texts` (must be empty). */
export function leaks(canaries: string[], texts: string[]): string[] {
  const hay = texts.join('\n');
  return canaries.filter((c) => c.length >= 8 && hay.includes(c));
}
