/**
 * The one way Vespid components turn zod validation issues into error messages. Only an issue's
 * path and message are used, never its `input`: inputs carry tokens and secrets, and an error message
 * ends up in logs, HTTP bodies and stored results. Zod's own messages name types, limits and formats,
 * not values; each message is still capped in length.
 */

/**
 * The part of a zod issue the formatter reads (zod 4's `$ZodIssue` fits).
 *
 * @example
 * ```ts
 * const issue: ZodIssueLike = { path: ['payload', 'url'], message: 'Invalid URL', code: 'invalid_format' };
 * ```
 */
export interface ZodIssueLike {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly code: string;
}

/**
 * One issue as an error body carries it (`details.issues`): a dotted path, the message and zod's code.
 *
 * @example
 * ```ts
 * const issue: ZodIssueSummary = { path: 'payload.connectorId', message: 'Invalid input: expected string, received undefined', code: 'invalid_type' };
 * ```
 */
export interface ZodIssueSummary {
  path: string;
  message: string;
  code: string;
}

/**
 * Options of {@link formatZodIssues}.
 *
 * @example
 * ```ts
 * formatZodIssues(parsed.error, { max: 3, root: '(body)' });
 * ```
 */
export interface FormatZodIssuesOptions {
  /** Issues listed at most. @default 5 */
  max?: number;
  /** Name shown for an issue on the value itself (empty path). @default '(root)' */
  root?: string;
  /**
   * `'paths'`: list the distinct paths only, no messages — for values whose custom refinements might
   * quote what they check (environment variables).
   * @default 'messages'
   */
  show?: 'messages' | 'paths';
  /** Length of the whole text at most (an ellipsis marks a cut). @default 1000 */
  maxLength?: number;
}

const MESSAGE_LENGTH = 200;

const cap = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

const pathOf = (issue: ZodIssueLike): string => issue.path.map((p) => cap(String(p), 64)).join('.');

/**
 * The issues as `{path, message, code}` objects (for an error's `details.issues`), without inputs.
 *
 * @example
 * ```ts
 * throw new ApiError('BAD_REQUEST', `invalid body: ${formatZodIssues(parsed.error)}`, { details: { issues: zodIssueSummaries(parsed.error) } });
 * ```
 */
export function zodIssueSummaries(error: { readonly issues: readonly ZodIssueLike[] }): ZodIssueSummary[] {
  return error.issues.map((i) => ({ path: pathOf(i), message: cap(i.message, MESSAGE_LENGTH), code: i.code }));
}

/**
 * One line naming what failed: `payload.url: Invalid URL; timeoutMs: Too big: expected number to be <=3600000`.
 * Reads paths and messages only, never the issue's input.
 *
 * @example
 * ```ts
 * const parsed = DispatchRequestSchema.safeParse(body);
 * if (!parsed.success) throw new GatewayError('BAD_REQUEST', `invalid dispatch request: ${formatZodIssues(parsed.error)}`);
 * ```
 */
export function formatZodIssues(error: { readonly issues: readonly ZodIssueLike[] }, options: FormatZodIssuesOptions = {}): string {
  const max = options.max ?? 5;
  const root = options.root ?? '(root)';
  const parts =
    options.show === 'paths'
      ? [...new Set(error.issues.map((i) => pathOf(i) || root))]
      : error.issues.map((i) => `${pathOf(i) || root}: ${cap(i.message, MESSAGE_LENGTH)}`);
  const more = parts.length > max ? `; and ${parts.length - max} more` : '';
  return cap(parts.slice(0, max).join(options.show === 'paths' ? ', ' : '; ') + more, options.maxLength ?? 1000);
}
