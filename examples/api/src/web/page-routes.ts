/**
 * Serves the `/agents` page: the HTML shell and its bundled script and stylesheet. A strict Content
 * Security Policy makes "no external network requests" a browser-enforced rule, not just a habit:
 * scripts, styles and fetches may only reach this origin.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { buildPageAssets } from './bundle.js';
import { agentsPageHtml } from './html.js';

/**
 * Content-Security-Policy of the page.
 *
 * @example
 * ```ts
 * reply.header('content-security-policy', AGENTS_PAGE_CSP);
 * ```
 */
export const AGENTS_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', AGENTS_PAGE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

/**
 * Registers `GET /agents`, `GET /agents/assets/app.js` and `GET /agents/assets/app.css`.
 *
 * @example
 * ```ts
 * agentsPageRoutes(app, { publicUrl: config.publicUrl });
 * ```
 */
export function agentsPageRoutes(app: FastifyInstance, options: { publicUrl?: string | undefined }): void {
  app.get('/agents', async (_request, reply) => {
    const assets = await buildPageAssets();
    return secure(reply)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(agentsPageHtml({ publicUrl: options.publicUrl, assetVersion: assets.etag.replaceAll('"', '') }));
  });
  // The trailing-slash form is common when typed by hand.
  app.get('/agents/', async (_request, reply) => reply.redirect('/agents', 301));

  const asset = (kind: 'js' | 'css', type: string) => async (request: { headers: Record<string, unknown> }, reply: FastifyReply) => {
    const assets = await buildPageAssets();
    secure(reply).header('etag', assets.etag).header('cache-control', 'no-cache');
    if (request.headers['if-none-match'] === assets.etag) return reply.status(304).send();
    return reply.type(type).send(assets[kind]);
  };
  app.get('/agents/assets/app.js', asset('js', 'text/javascript; charset=utf-8'));
  app.get('/agents/assets/app.css', asset('css', 'text/css; charset=utf-8'));
}
