import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ErrorCodes, actionNotSupported, dockerExitCode, errorCodeInfo, isErrorCode, isRetryableCode } from './error-codes.js';
import { ErrorCodeSchema } from './primitives.js';
import { VespidError } from './vespid-error.js';

describe('error catalogue', () => {
  it('contains every code the runbook and design name', () => {
    for (const code of [
      'NO_AGENT_AVAILABLE',
      'GATEWAY_NOT_CONFIGURED',
      'NODE_EXECUTION_TIMEOUT',
      'BAD_REQUEST',
      'UNAUTHORIZED',
      'RESULT_NOT_READY',
      'AGENT_DISCONNECTED',
      'GATEWAY_UNAVAILABLE',
      'GATEWAY_SHUTDOWN',
      'DOCKER_FAILED',
      'DOCKER_IMAGE_NOT_FOUND',
      'SANDBOX_BACKEND_NOT_CONFIGURED',
      'INVALID_ACTION_INPUT',
      'SECRET_REQUIRED',
      'GATEWAY_RESPONSE_INVALID',
    ]) {
      expect(errorCodeInfo(code), code).toBeDefined();
    }
    expect(ErrorCodes.NO_AGENT_AVAILABLE).toBe('NO_AGENT_AVAILABLE');
  });

  it('matches parametric families', () => {
    expect(errorCodeInfo(dockerExitCode(3))?.code).toBe('DOCKER_EXIT_CODE:<n>');
    expect(dockerExitCode(137)).toBe('DOCKER_EXIT_CODE:137');
    expect(errorCodeInfo(actionNotSupported('http', 'delete'))?.code).toBe('ACTION_NOT_SUPPORTED:<connector>:<action>');
    expect(errorCodeInfo('NOPE')).toBeUndefined();
  });

  it('has unique codes, and every concrete code is valid on the wire', () => {
    const codes = ERROR_CODES.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes.filter((c) => !c.includes('<'))) expect(ErrorCodeSchema.safeParse(c).success, c).toBe(true);
    expect(ErrorCodeSchema.safeParse('DOCKER_EXIT_CODE:3').success).toBe(true);
  });

  it('knows what is retryable', () => {
    expect(isRetryableCode('NO_AGENT_AVAILABLE')).toBe(true);
    expect(isRetryableCode('BAD_REQUEST')).toBe(false);
    expect(isRetryableCode('unknown')).toBe(false);
  });

  it('agrees with the worker on timeouts and HTTP failures, and tells an expired pairing token apart', () => {
    // A timed-out action may have had its effect: not retried. A failed HTTP request may be (per failure).
    expect(isRetryableCode('NODE_EXECUTION_TIMEOUT')).toBe(false);
    expect(isRetryableCode('HTTP_REQUEST_FAILED')).toBe(true);
    expect(errorCodeInfo('PAIRING_TOKEN_EXPIRED')).toMatchObject({ httpStatus: 400, retryable: false });
    expect(errorCodeInfo('PAIRING_TOKEN_INVALID')).toMatchObject({ httpStatus: 401, retryable: false });
  });
});

describe('VespidError', () => {
  it('takes retryable and status from the catalogue and serializes without the cause', () => {
    const cause = new Error('socket hang up with secret=abc');
    const e = new VespidError('GATEWAY_UNAVAILABLE', 'gateway unreachable', { cause });
    expect(e.retryable).toBe(true);
    expect(e.httpStatus).toBe(503);
    expect(e.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(e))).toEqual({ code: 'GATEWAY_UNAVAILABLE', message: 'gateway unreachable', retryable: true });
    expect(VespidError.is(e)).toBe(true);
    expect(VespidError.is(new Error('x'))).toBe(false);
  });

  it('takes catalogue codes only (checked by the compiler; isErrorCode checks codes from the wire)', () => {
    // @ts-expect-error a code outside the catalogue does not compile
    const e = new VespidError('NOT_IN_THE_CATALOGUE', 'x');
    expect(e.retryable).toBe(false);
    expect(new VespidError(dockerExitCode(3), 'exit 3').code).toBe('DOCKER_EXIT_CODE:3');
    expect(isErrorCode('NO_AGENT_AVAILABLE')).toBe(true);
    expect(isErrorCode('ACTION_NOT_SUPPORTED:github:x.y')).toBe(true);
    expect(isErrorCode('NOT_IN_THE_CATALOGUE')).toBe(false);
  });

  it('allows overriding retryable', () => {
    expect(new VespidError('BAD_REQUEST', 'x', { retryable: true }).retryable).toBe(true);
  });
});
