const REDACTED = '[REDACTED]';

/**
 * Returns a copy of `value` in which every occurrence of `secret` inside a string (keys included) is
 * replaced by `[REDACTED]`. Defence in depth: a connector or script may echo its credential (e.g. an
 * API error quoting the header), and results are stored by the gateway.
 *
 * @example
 * ```ts
 * redactSecret({ msg: 'bad token abc123' }, 'abc123'); // { msg: 'bad token [REDACTED]' }
 * ```
 */
export function redactSecret<T>(value: T, secret: string | undefined): T {
  // Very short secrets would redact ordinary text; they are still never logged by us.
  if (!secret || secret.length < 4) return value;
  return walk(value, secret, 0) as T;
}

function walk(value: unknown, secret: string, depth: number): unknown {
  if (typeof value === 'string') return value.includes(secret) ? value.split(secret).join(REDACTED) : value;
  if (depth > 64 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => walk(v, secret, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[walk(k, secret, depth + 1) as string] = walk(v, secret, depth + 1);
  return out;
}
