/**
 * Input generators for the fuzz cases: schema-guided mutations of a valid value (drop, retype, grow,
 * nest, add keys) and fully random values, bytes and broken JSON. Seeded, so a failure replays with
 * CHAOS_SEED.
 */
export type Rng = () => number;

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const int = (rng: Rng, max: number) => Math.floor(rng() * max);

const strings = [
  '',
  ' ',
  '../../etc/passwd',
  '..',
  '\u0000',
  '\ud800',
  '🦀'.repeat(50),
  '<script>alert(1)</script>',
  "'; DROP TABLE organizations; --",
  '%00%2e%2e%2f',
  'a'.repeat(300),
  'a'.repeat(70_000),
  '__proto__',
  'constructor',
  'null',
  '1e309',
  'group:',
  'Bearer x',
];
const numbers = [0, -1, 1, 1.5, -0, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER];

/** A random JSON value, at most `depth` levels deep. */
export function randomValue(rng: Rng, depth = 3): unknown {
  const r = int(rng, depth > 0 ? 8 : 5);
  switch (r) {
    case 0:
      return null;
    case 1:
      return rng() < 0.5;
    case 2:
      return pick(rng, numbers);
    case 3:
      return pick(rng, strings);
    case 4:
      return Math.random()
        .toString(36)
        .slice(2, 2 + int(rng, 12));
    case 5:
      return Array.from({ length: int(rng, 5) }, () => randomValue(rng, depth - 1));
    case 6: {
      const o: Record<string, unknown> = {};
      for (let i = int(rng, 5); i > 0; i--)
        o[pick(rng, [...strings.slice(0, 14), 'type', 'requestId', 'status'])] = randomValue(rng, depth - 1);
      return o;
    }
    default:
      // Deep enough to hurt a recursive validator; far deeper input is sent as raw text (see randomText).
      return deep(int(rng, 150) + 10);
  }
}

function deep(n: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = { a: v };
  return v;
}

/** One schema-guided mutation of `base` (a plain JSON object), recursing into nested objects. */
export function mutate(rng: Rng, base: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(base);
  const keys = Object.keys(out);
  const ops = 1 + int(rng, 3);
  for (let i = 0; i < ops; i++) {
    const key = keys.length ? pick(rng, keys) : 'x';
    const op = int(rng, 7);
    if (op === 0) delete out[key];
    else if (op === 1) out[key] = randomValue(rng);
    else if (op === 2) out[pick(rng, ['extra', '__proto__', 'constructor', key.toUpperCase()])] = randomValue(rng);
    else if (op === 3 && out[key] && typeof out[key] === 'object' && !Array.isArray(out[key]))
      out[key] = mutate(rng, out[key] as Record<string, unknown>);
    else if (op === 4) out[key] = typeof out[key] === 'string' ? `${out[key]}${pick(rng, strings)}` : String(out[key]);
    else if (op === 5) out[key] = [out[key]];
    else out[key] = pick(rng, numbers);
  }
  return out;
}

/** A frame/body text: mostly JSON (mutated or random), sometimes broken JSON or non-JSON text. */
export function randomText(rng: Rng, valid: Record<string, unknown>): string {
  const r = rng();
  if (r < 0.55) return JSON.stringify(mutate(rng, valid));
  if (r < 0.7) return JSON.stringify(randomValue(rng));
  if (r < 0.8) return JSON.stringify(valid).slice(0, int(rng, JSON.stringify(valid).length));
  if (r < 0.88) return pick(rng, ['', 'null', '[]', '{}', '"x"', '{"type":', 'NaN', '{"type":"hello"}{"type":"ping"}', '\u0000\u0001']);
  if (r < 0.9) {
    // Nesting far beyond any schema, built as text so the generator itself never recurses.
    const depth = 1000 + int(rng, 9000);
    return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  }
  return JSON.stringify(valid);
}
