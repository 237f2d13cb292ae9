import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { AgentError } from '../errors.js';
import type { DestinationPolicy } from '../destination-policy.js';
import { connectorDispatcher, requestCapped } from './http-client.js';
import { type Connector, defineAction, defineConnector } from './registry.js';

/**
 * Options of {@link githubConnector}.
 *
 * @example
 * ```ts
 * githubConnector({ apiBaseUrl: 'https://ghe.example.com/api/v3' });
 * ```
 */
export interface GithubConnectorOptions {
  /** GitHub REST API base URL (GitHub Enterprise: `https://ghe.example.com/api/v3`). @default https://api.github.com */
  apiBaseUrl?: string;
  /** @default 30000 */
  timeoutMs?: number;
  /** undici dispatcher (proxies, custom CA). */
  dispatcher?: Dispatcher;
  /** Where requests may connect (see `HttpConnectorOptions.destinations`). Exclusive with `dispatcher`. @default unset */
  destinations?: DestinationPolicy;
  /** @default vespid-node-agent */
  userAgent?: string;
}

const OptionsSchema = z.strictObject({
  apiBaseUrl: z.url({ protocol: /^https?$/ }).default('https://api.github.com'),
  timeoutMs: z.number().int().min(1).max(600_000).default(30_000),
  dispatcher: z.custom<Dispatcher>().optional(),
  destinations: z.custom<DestinationPolicy>((v) => typeof v === 'object' && v !== null && 'check' in v).optional(),
  userAgent: z.string().min(1).max(200).default('vespid-node-agent'),
});

const name = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.-]+$/, 'must be a GitHub owner or repository name');

const IssueCreateInput = z.strictObject({
  owner: name,
  repo: name,
  title: z.string().min(1).max(256),
  body: z.string().max(65_536).optional(),
  labels: z.array(z.string().min(1).max(50)).max(100).optional(),
  assignees: z.array(z.string().min(1).max(39)).max(10).optional(),
});

/**
 * The `github` connector. Action `issue.create`: `{owner, repo, title, body?, labels?, assignees?}` →
 * `{id, number, url, apiUrl}`, authenticated with the node's secret as a bearer token (required).
 * Errors: `SECRET_REQUIRED`, `GITHUB_API_ERROR` (non-2xx, with GitHub's status and message).
 *
 * @example
 * ```ts
 * connectorActionExecutor({ connectors: [githubConnector({ apiBaseUrl: 'https://ghe.corp/api/v3' })] });
 * ```
 */
export function githubConnector(options: GithubConnectorOptions = {}): Connector {
  const opts = OptionsSchema.parse(options);
  const dispatcher = connectorDispatcher('github', opts.dispatcher, opts.destinations);
  const base = opts.apiBaseUrl.replace(/\/+$/, '');
  const issueCreate = defineAction({
    id: 'issue.create',
    input: IssueCreateInput,
    requiresSecret: true,
    async run(input, ctx) {
      const { owner, repo, ...issue } = input;
      const res = await requestCapped(`${base}/repos/${owner}/${repo}/issues`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${ctx.secret}`,
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2022-11-28',
          'content-type': 'application/json',
          'user-agent': opts.userAgent,
        },
        body: JSON.stringify(issue),
        maxBytes: 1024 * 1024,
        timeoutMs: opts.timeoutMs,
        signal: ctx.signal,
        dispatcher,
        failureCode: 'GITHUB_API_ERROR',
      });
      const json = parseJson(res.body);
      if (res.status < 200 || res.status >= 300) {
        const message = typeof json?.message === 'string' ? json.message.slice(0, 500) : `HTTP ${res.status}`;
        throw new AgentError('GITHUB_API_ERROR', `GitHub answered ${res.status}: ${message}`, {
          retryable: res.status >= 500 || res.status === 429,
          details: { status: res.status },
        });
      }
      return { id: json?.id, number: json?.number, url: json?.html_url, apiUrl: json?.url };
    },
  });
  return defineConnector({ id: 'github', actions: [issueCreate as never] });
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}
