/**
 * Durations and request ids as the fleet views show them (shared by the browser bundle and the tests,
 * so no DOM or Node APIs here).
 */

/**
 * A duration in words-short: `—` when unknown, `850 ms`, `4.2 s`, `3 min 05 s`, `2 h 10 min`.
 *
 * @example
 * ```ts
 * formatDuration(4210); // '4.2 s'
 * ```
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/**
 * The page's views, from the location hash: `#/agents/<id>`, `#/runs/<id>`, anything else the list.
 *
 * @example
 * ```ts
 * parseRoute('#/runs/abc'); // { view: 'run', id: 'abc' }
 * ```
 */
export function parseRoute(hash: string): { view: 'list' } | { view: 'agent' | 'run'; id: string } {
  const m = /^#\/(agents|runs)\/([0-9a-fA-F-]{36})$/.exec(hash);
  if (!m) return { view: 'list' };
  return { view: m[1] === 'agents' ? 'agent' : 'run', id: m[2]!.toLowerCase() };
}
