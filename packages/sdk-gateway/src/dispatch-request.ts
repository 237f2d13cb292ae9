import { type DispatchRequest, DispatchRequestSchema } from '@vespid/protocol';

/**
 * Dispatch requests this gateway already validated: the internal routes (HTTP and the dispatch
 * channel) validate the body to answer 400, then hand the result to `gateway.dispatch()`, which would
 * otherwise validate it again. Only objects produced by {@link validateDispatchRequest} are in the set
 * (zod returns a fresh object), so a request from anywhere else is always validated.
 */
const validated = new WeakSet<object>();

/** `DispatchRequestSchema.safeParse`, remembering the parsed value as validated. */
export function validateDispatchRequest(body: unknown): ReturnType<typeof DispatchRequestSchema.safeParse> {
  const parsed = DispatchRequestSchema.safeParse(body);
  if (parsed.success) validated.add(parsed.data);
  return parsed;
}

/** Whether `request` is a value {@link validateDispatchRequest} produced. */
export function isValidatedDispatchRequest(request: unknown): request is DispatchRequest {
  return typeof request === 'object' && request !== null && validated.has(request);
}
