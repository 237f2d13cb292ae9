import { describe, expect, it } from 'vitest';
import { isValidatedDispatchRequest, validateDispatchRequest } from './dispatch-request.js';

const body = {
  organizationId: 'org-1',
  requestId: 'r1:n:0',
  kind: 'connector.action',
  payload: { connectorId: 'http' },
  timeoutMs: 1000,
};

describe('a dispatch request validated once', () => {
  it('recognises the value the route validated, so dispatch() need not parse it again', () => {
    const parsed = validateDispatchRequest(body);
    expect(parsed.success).toBe(true);
    expect(isValidatedDispatchRequest(parsed.data)).toBe(true);
  });

  it('never takes an object from elsewhere as validated, even one of the same shape', () => {
    expect(isValidatedDispatchRequest(body)).toBe(false);
    expect(isValidatedDispatchRequest({ ...validateDispatchRequest(body).data })).toBe(false);
    expect(isValidatedDispatchRequest(null)).toBe(false);
    expect(isValidatedDispatchRequest('r1:n:0')).toBe(false);
  });

  it('an invalid body is refused and nothing is marked', () => {
    const parsed = validateDispatchRequest({ ...body, timeoutMs: -1 });
    expect(parsed.success).toBe(false);
  });
});
