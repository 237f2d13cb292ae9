import { z } from 'zod';
import { LIMITS, MAX_TIMEOUT_MS } from './constants.js';

/** An identifier safe to use in logs, Redis keys and file paths: no whitespace, no slashes. */
export const IdSchema = z
  .string()
  .min(1)
  .max(LIMITS.idLength)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'must be letters, digits and . _ : @ - only');

/** Organization ids are embedded in agent tokens (`<orgId>.<secret>`), so they may not contain dots. */
export const OrganizationIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'must be letters, digits, _ and - only');

/**
 * A request id. By convention `runId:nodeId:attempt`, which makes a repeated dispatch of the same
 * attempt idempotent.
 */
export const RequestIdSchema = IdSchema;

/** A node kind such as `connector.action` or `agent.execute`; plugins add their own. */
export const KindSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-z][a-z0-9_.-]*$/, 'must be lower-case letters, digits and . _ -');

/** A routing tag such as `east` or `group:alpha`. */
export const TagSchema = z
  .string()
  .min(1)
  .max(LIMITS.tagLength)
  .regex(/^[^\s,]+$/, 'must not contain whitespace or commas');

/** A connector id such as `http` or `github`. */
export const ConnectorIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'must be lower-case letters, digits and . _ -');

/** A timeout in milliseconds, 1 ms to one day. */
export const TimeoutMsSchema = z.number().int().min(1).max(MAX_TIMEOUT_MS);

/** A stable error code (e.g. `NO_AGENT_AVAILABLE`, `DOCKER_EXIT_CODE:3`). */
export const ErrorCodeSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Z][A-Z0-9_]*(:[^\s]+)*$/, 'must be an UPPER_SNAKE code, optionally with :parameters');

/** The error part of a result or an HTTP error body. */
export const ErrorInfoSchema = z.strictObject({
  code: ErrorCodeSchema,
  message: z.string().max(LIMITS.errorMessageLength),
  retryable: z.boolean().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

/** Selects which agent may run a request. At most one of agentId, tag or group. */
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
export type Selector = z.infer<typeof SelectorSchema>;
