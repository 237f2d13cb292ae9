import { z } from 'zod';
import { LIMITS, MAX_TIMEOUT_MS } from './constants.js';

/**
 * An identifier safe to use in logs, Redis keys and file paths: no whitespace, no slashes.
 *
 * @example
 * ```ts
 * IdSchema.parse('run-1:fetch:0');
 * ```
 */
export const IdSchema = z
  .string()
  .min(1)
  .max(LIMITS.idLength)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'must be letters, digits and . _ : @ - only');

/**
 * Organization ids are embedded in agent tokens (`<orgId>.<secret>`), so they may not contain dots.
 *
 * @example
 * ```ts
 * OrganizationIdSchema.safeParse('acme').success; // true ('a.b' is refused: tokens are `<orgId>.<secret>`)
 * ```
 */
export const OrganizationIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'must be letters, digits, _ and - only');

/**
 * A request id. By convention `runId:nodeId:attempt`, which makes a repeated dispatch of the same
 * attempt idempotent.
 *
 * @example
 * ```ts
 * RequestIdSchema.parse(`${runId}:${nodeId}:${attempt}`);
 * ```
 */
export const RequestIdSchema = IdSchema;

/**
 * A node kind such as `connector.action` or `agent.execute`; plugins add their own.
 *
 * @example
 * ```ts
 * KindSchema.parse('connector.action');
 * ```
 */
export const KindSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-z][a-z0-9_.-]*$/, 'must be lower-case letters, digits and . _ -');

/**
 * A routing tag such as `east` or `group:alpha`.
 *
 * @example
 * ```ts
 * TagSchema.parse('group:alpha');
 * ```
 */
export const TagSchema = z
  .string()
  .min(1)
  .max(LIMITS.tagLength)
  .regex(/^[^\s,]+$/, 'must not contain whitespace or commas');

/**
 * A connector id such as `http` or `github`.
 *
 * @example
 * ```ts
 * ConnectorIdSchema.parse('github');
 * ```
 */
export const ConnectorIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'must be lower-case letters, digits and . _ -');

/**
 * A timeout in milliseconds, 1 ms to one day.
 *
 * @example
 * ```ts
 * const timeoutMs = TimeoutMsSchema.parse(60_000);
 * ```
 */
export const TimeoutMsSchema = z.number().int().min(1).max(MAX_TIMEOUT_MS);

/**
 * A stable error code (e.g. `NO_AGENT_AVAILABLE`, `DOCKER_EXIT_CODE:3`).
 *
 * @example
 * ```ts
 * ErrorCodeSchema.safeParse('DOCKER_EXIT_CODE:1').success; // true
 * ```
 */
export const ErrorCodeSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Z][A-Z0-9_]*(:[^\s]+)*$/, 'must be an UPPER_SNAKE code, optionally with :parameters');

/**
 * The error part of a result or an HTTP error body.
 *
 * @example
 * ```ts
 * const error = ErrorInfoSchema.parse({ code: 'NODE_EXECUTION_TIMEOUT', message: 'no result after 60000 ms' });
 * ```
 */
export const ErrorInfoSchema = z.strictObject({
  code: ErrorCodeSchema,
  message: z.string().max(LIMITS.errorMessageLength),
  retryable: z.boolean().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
/**
 * @example
 * ```ts
 * const error: ErrorInfo = { code: 'BAD_REQUEST', message: 'payload.url: required', retryable: false };
 * ```
 */
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

/**
 * Selects which agent may run a request. At most one of agentId, tag or group.
 *
 * @example
 * ```ts
 * SelectorSchema.parse({ group: 'alpha' }); // routed to agents tagged group:alpha
 * ```
 */
export const SelectorSchema = z.union([
  z.strictObject({ agentId: IdSchema }),
  z.strictObject({ tag: TagSchema }),
  z.strictObject({
    group: z
      .string()
      .min(1)
      .max(LIMITS.tagLength - 6)
      .regex(/^[^\s,]+$/),
  }),
  z.strictObject({}),
]);
/**
 * @example
 * ```ts
 * const selector: Selector = { tag: 'east' };
 * ```
 */
export type Selector = z.infer<typeof SelectorSchema>;
