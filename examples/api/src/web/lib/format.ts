/**
 * Pure formatting helpers of the `/agents` page (shared by the browser bundle and the tests, so they
 * must not touch the DOM or Node APIs).
 */

/**
 * "just now", "12 s ago", "5 min ago", "3 h ago", "2 d ago"; "never" for null. Future instants (clock
 * skew between browser and server) read as "just now" rather than a negative age.
 *
 * @example
 * ```ts
 * relativeTime('2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:01:30Z')); // '1 min ago'
 * ```
 */
export function relativeTime(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  const s = Math.floor((now - t) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/**
 * Remaining time as `m:ss` (e.g. `14:59`), or null once expired.
 *
 * @example
 * ```ts
 * countdown('2026-01-01T00:15:00Z', Date.parse('2026-01-01T00:00:01Z')); // '14:59'
 * ```
 */
export function countdown(expiresAtIso: string, now: number): string | null {
  const left = Math.ceil((Date.parse(expiresAtIso) - now) / 1000);
  if (!(left > 0)) return null;
  return `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
}

/**
 * Parses the tag editor's text: commas or whitespace separate tags; empties and duplicates are dropped.
 *
 * @example
 * ```ts
 * parseTagsInput(' east, group:alpha  east'); // ['east', 'group:alpha']
 * ```
 */
export function parseTagsInput(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\s,]+/)
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
}

/**
 * A list for a table cell: items joined with ", ", or an em dash when empty or unknown.
 *
 * @example
 * ```ts
 * listText(['http', 'github']); // 'http, github'
 * ```
 */
export function listText(items: readonly string[] | null | undefined): string {
  return items && items.length > 0 ? items.join(', ') : '—';
}
