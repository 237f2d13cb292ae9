import type { z } from 'zod';
import { CloseCode } from './close-codes.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from './constants.js';
import { type AgentMessage, AgentMessageSchema, type GatewayMessage, GatewayMessageSchema } from './messages.js';
import { formatZodIssues } from './zod-issues.js';

/**
 * Why a frame was refused; `closeCode` is what the receiver should close the session with.
 *
 * @example
 * ```ts
 * const r = parseGatewayMessage(data); if (!r.ok) ws.close(r.error.closeCode, r.error.reason);
 * ```
 */
export interface FrameError {
  closeCode: number;
  reason: string;
}

/**
 * @example
 * ```ts
 * const r: FrameResult<AgentMessage> = parseAgentMessage(data);
 * ```
 */
export type FrameResult<T> = { ok: true; message: T } | { ok: false; error: FrameError };

/**
 * JSON.parse that refuses `__proto__` keys anywhere. JSON.parse itself creates them as own properties,
 * but a later spread or merge into a plain object would turn them into prototype writes.
 *
 * @example
 * ```ts
 * const value = parseJsonSafe(text); // undefined when text is not JSON
 * ```
 */
export function parseJsonSafe(text: string): unknown {
  // A key parses to "__proto__" only if the text holds it literally or writes part of it as a \u
  // escape (JSON has no other escape for letters or "_"). Text with neither cannot hold one: plain
  // JSON.parse, several times cheaper than calling a reviver on every value of every frame.
  if (!text.includes('__proto__') && !text.includes('\\u')) return JSON.parse(text);
  return JSON.parse(text, rejectProto);
}

function rejectProto(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new SyntaxError('forbidden key "__proto__"');
  return value;
}

function toText(raw: unknown): string | null {
  if (typeof raw === 'string') return raw;
  if (Buffer.isBuffer(raw)) return raw.toString('utf8');
  if (Array.isArray(raw) && raw.every((b) => Buffer.isBuffer(b))) return Buffer.concat(raw).toString('utf8');
  if (raw instanceof ArrayBuffer) return Buffer.from(raw).toString('utf8');
  return null;
}

function parseWith<T>(schema: z.ZodType<T>, raw: unknown, maxBytes: number): FrameResult<T> {
  const text = toText(raw);
  if (text === null)
    return { ok: false, error: { closeCode: CloseCode.ProtocolViolation, reason: 'binary frames are not part of protocol v1' } };
  if (Buffer.byteLength(text, 'utf8') > maxBytes)
    return { ok: false, error: { closeCode: CloseCode.MessageTooBig, reason: 'frame too big' } };
  let data: unknown;
  try {
    data = parseJsonSafe(text);
  } catch (err) {
    return {
      ok: false,
      error: { closeCode: CloseCode.ProtocolViolation, reason: `invalid JSON: ${(err as Error).message.slice(0, 100)}` },
    };
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const type = data && typeof data === 'object' && 'type' in data ? String((data as { type: unknown }).type).slice(0, 40) : '?';
    return {
      ok: false,
      error: {
        closeCode: CloseCode.ProtocolViolation,
        reason: `invalid ${type} frame: ${formatZodIssues(parsed.error, { max: 3, maxLength: 300 })}`,
      },
    };
  }
  return { ok: true, message: parsed.data };
}

/**
 * Parses and validates one agent → gateway frame. Never throws.
 *
 * @example
 * ```ts
 * const r = parseAgentMessage(data);
 * if (!r.ok) socket.close(r.error.closeCode, r.error.reason);
 * ```
 */
export function parseAgentMessage(raw: unknown, maxBytes = DEFAULT_MAX_PAYLOAD_BYTES): FrameResult<AgentMessage> {
  return parseWith(AgentMessageSchema, raw, maxBytes);
}

/**
 * Parses and validates one gateway → agent frame. Never throws.
 *
 * @example
 * ```ts
 * const r = parseGatewayMessage(data);
 * if (r.ok && r.message.type === 'execute') run(r.message);
 * ```
 */
export function parseGatewayMessage(raw: unknown, maxBytes = DEFAULT_MAX_PAYLOAD_BYTES): FrameResult<GatewayMessage> {
  return parseWith(GatewayMessageSchema, raw, maxBytes);
}

/**
 * Serializes a frame. Kept as a function so senders never hand-build JSON.
 *
 * @example
 * ```ts
 * ws.send(encodeMessage({ type: 'ping', ts: Date.now() }));
 * ```
 */
export function encodeMessage(message: AgentMessage | GatewayMessage): string {
  return JSON.stringify(message);
}
