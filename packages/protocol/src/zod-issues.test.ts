import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DispatchRequestSchema } from './dispatch.js';
import { formatZodIssues, zodIssueSummaries } from './zod-issues.js';

const SECRET = 'ghp_CANARY_zod_issue_7d1e';

describe('formatZodIssues', () => {
  it('names paths and messages, with the root named and extra issues counted', () => {
    const schema = z.object({ a: z.string(), b: z.object({ c: z.number() }), d: z.boolean(), e: z.boolean() });
    const error = schema.safeParse({ a: 1, b: { c: 'x' } }).error!;
    expect(formatZodIssues(error, { max: 2 })).toBe(
      'a: Invalid input: expected string, received number; b.c: Invalid input: expected number, received string; and 2 more',
    );
    expect(formatZodIssues(z.string().safeParse(1).error!, { root: '(body)' })).toMatch(/^\(body\): Invalid input/);
    expect(formatZodIssues(error, { show: 'paths' })).toBe('a, b.c, d, e');
    expect(zodIssueSummaries(error)[1]).toEqual({
      path: 'b.c',
      message: 'Invalid input: expected number, received string',
      code: 'invalid_type',
    });
  });

  it('never echoes an input value, even when zod reports inputs', () => {
    const schema = z.strictObject({
      token: z.string().regex(/^vsp_/),
      kind: z.enum(['a', 'b']),
      url: z.url(),
      n: z.literal(3),
      short: z.string().max(4),
      env: z.record(z.string(), z.number()),
    });
    const input = { token: SECRET, kind: SECRET, url: SECRET, n: SECRET, short: SECRET, env: { KEY: SECRET } };
    const error = schema.safeParse(input, { reportInput: true }).error!;
    expect(error.issues.some((i) => i.input === SECRET)).toBe(true);
    expect(formatZodIssues(error, { max: 100 })).not.toContain(SECRET);
    expect(JSON.stringify(zodIssueSummaries(error))).not.toContain(SECRET);

    const request = DispatchRequestSchema.safeParse(
      {
        organizationId: 'o1',
        requestId: SECRET,
        kind: 'connector.action',
        payload: { connectorId: SECRET, secret: SECRET },
        timeoutMs: SECRET,
      },
      { reportInput: true },
    );
    expect(formatZodIssues(request.error!, { max: 100 })).not.toContain(SECRET);
  });

  it('caps long messages and the whole text', () => {
    const error = z
      .string()
      .refine(() => false, 'x'.repeat(500))
      .safeParse('v').error!;
    expect(formatZodIssues(error).length).toBeLessThanOrEqual(210);
    expect(formatZodIssues(error, { maxLength: 50 })).toHaveLength(50);
  });
});
