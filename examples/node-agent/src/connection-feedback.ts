/**
 * What the operator reads while the agent connects: `connecting to <url>`, `connected as <name> (<id>)`,
 * `cannot reach <url> (<cause>); retrying in Ns (attempt n)` with repeats of the same cause collapsed,
 * and fail-fast for errors that retrying cannot fix (HTTP 404 on the WebSocket path, a TLS mismatch).
 * The runtime's own connection lines are demoted to debug so each event is said once.
 */
import type { Logger } from '@vespid/protocol';
import type { Agent } from '@vespid/sdk-agent';
import { CliError } from './exit-codes.js';

/** Messages of `@vespid/sdk-agent`'s runtime that this module replaces with richer lines. */
const LIBRARY_CONNECTION_LINES = new Set(['connected to gateway', 'disconnected from gateway; reconnecting']);

/**
 * A logger for the runtime that sends its connection lines to debug (this module prints better ones)
 * and passes everything else through.
 */
export function withoutConnectionLines(logger: Logger): Logger {
  return {
    debug: (o, m) => logger.debug(o, m),
    info: (o, m) => (m && LIBRARY_CONNECTION_LINES.has(m) ? logger.debug(o, m) : logger.info(o, m)),
    warn: (o, m) => (m && LIBRARY_CONNECTION_LINES.has(m) ? logger.debug(o, m) : logger.warn(o, m)),
    error: (o, m) => logger.error(o, m),
  };
}

/** The short cause of a failed connection attempt: `ECONNREFUSED`, `HTTP 502`, `TLS: wrong version number`, … */
export function connectionCause(reason: string, code: number): string {
  const http = /^HTTP (\d{3})/.exec(reason);
  if (http) return `HTTP ${http[1]}`;
  const errno = /\b(E[A-Z]{3,}|ERR_[A-Z_]+|UND_ERR_[A-Z_]+)\b/.exec(reason);
  if (errno) return errno[1]!;
  if (/wrong version number|packet length too long/i.test(reason)) return 'TLS: wrong version number';
  if (/handshake timed out|Opening handshake has timed out/i.test(reason)) return 'handshake timeout';
  if (reason) return reason.slice(0, 80);
  return code ? `close code ${code}` : 'connection failed';
}

/**
 * A connection failure no retry can fix, with the hint that fixes it; undefined when retrying may help.
 * The gateway URL comes from the control plane (`GATEWAY_WS_URL`), so that is where the hint points.
 */
export function permanentConnectionError(url: string, reason: string): CliError | undefined {
  if (/^HTTP 404\b/.test(reason)) {
    return new CliError(
      `the gateway at ${url} answered HTTP 404 to the WebSocket upgrade`,
      `wrong URL or path: the gateway serves agents on /ws. The URL comes from the control plane's GATEWAY_WS_URL; fix it there and run \`connect --replace\` with a new pairing token`,
    );
  }
  if (url.startsWith('wss:') && /wrong version number|packet length too long|EPROTO/i.test(reason)) {
    return new CliError(
      `the gateway at ${url} does not speak TLS`,
      `use ${url.replace(/^wss:/, 'ws:')} in the control plane's GATEWAY_WS_URL, or put a TLS terminator in front of the gateway`,
    );
  }
  return undefined;
}

/** Options of {@link attachConnectionFeedback}. */
export interface ConnectionFeedbackOptions {
  agent: Agent;
  logger: Logger;
  url: string;
  name: string;
  tags: readonly string[];
  /** Called once for an error that retrying cannot fix; the caller stops the agent. */
  onPermanentError(error: CliError): void;
}

/** Prints `connecting to …` and follows the agent's connection events. Returns an unsubscriber. */
export function attachConnectionFeedback(o: ConnectionFeedbackOptions): () => void {
  const { agent, logger, url } = o;
  let attempt = 0;
  let everConnected = false;
  let sessionUp = false;
  let lastCause = '';
  let hidden = 0;
  logger.info({ url }, `connecting to ${url}`);
  const offConnected = agent.on('connected', ({ agentId, sessionId }) => {
    const tags = o.tags.length ? `tags ${o.tags.join(', ')}` : 'no tags';
    const again = everConnected ? 're' : '';
    logger.info(
      { agentId, sessionId, url, attempts: attempt + 1 },
      `${again}connected as ${o.name} (${agentId}), ${tags}${attempt ? ` after ${attempt + 1} attempts` : ''}`,
    );
    everConnected = true;
    sessionUp = true;
    attempt = 0;
    lastCause = '';
    hidden = 0;
  });
  const offDisconnected = agent.on('disconnected', ({ code, reason, willReconnect, delayMs }) => {
    const wasUp = sessionUp;
    sessionUp = false;
    if (!willReconnect) return;
    const fatal = wasUp ? undefined : permanentConnectionError(url, reason);
    if (fatal) {
      o.onPermanentError(fatal);
      return;
    }
    const cause = connectionCause(reason, code);
    const seconds = formatSeconds(delayMs ?? 0);
    if (wasUp) {
      logger.warn({ url, code, reason }, `disconnected from ${url} (${cause}); reconnecting in ${seconds}s`);
      lastCause = cause;
      return;
    }
    attempt++;
    // The same cause again: say it at attempts 1, 2, 4, 8, … only, counting what was left out.
    if (cause === lastCause && (attempt & (attempt - 1)) !== 0) {
      hidden++;
      return;
    }
    const note = cause === lastCause && hidden ? `; ${hidden} similar line${hidden === 1 ? '' : 's'} hidden` : '';
    logger.warn({ url, cause, attempt, delayMs }, `cannot reach ${url} (${cause}); retrying in ${seconds}s (attempt ${attempt}${note})`);
    lastCause = cause;
    hidden = 0;
  });
  return () => {
    offConnected();
    offDisconnected();
  };
}

/** 0.4 → "0.4", 12.3 → "12" (seconds, for humans). */
function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return s < 10 ? String(Math.round(s * 10) / 10) : String(Math.round(s));
}
