import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentsPageHtml, escapeHtml } from './html.js';
import { AGENTS_PAGE_CSP, agentsPageRoutes } from './page-routes.js';

describe('/agents page routes', () => {
  const app = Fastify();
  const withPublicUrl = Fastify();

  beforeAll(async () => {
    agentsPageRoutes(app, {});
    agentsPageRoutes(withPublicUrl, { publicUrl: 'https://api.example.com' });
    await Promise.all([app.ready(), withPublicUrl.ready()]);
  });
  afterAll(async () => {
    await Promise.all([app.close(), withPublicUrl.close()]);
  });

  it('serves the HTML shell under a same-origin-only Content-Security-Policy', async () => {
    const res = await app.inject({ method: 'GET', url: '/agents' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toBe(AGENTS_PAGE_CSP);
    expect(AGENTS_PAGE_CSP).toContain("connect-src 'self'");
    expect(AGENTS_PAGE_CSP).toContain("script-src 'self'");
    expect(res.body).toContain('<label for="access-token">Access token</label>');
    expect(res.body).toContain('Create pairing token');
    // Only this origin's assets: no absolute URL anywhere in the shell, and no api-base override.
    expect(res.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(res.body).not.toContain('vespid-api-base');
  });

  it('passes API_PUBLIC_URL to the page as the connect command --api-base, escaped', async () => {
    const res = await withPublicUrl.inject({ method: 'GET', url: '/agents' });
    expect(res.body).toContain('<meta name="vespid-api-base" content="https://api.example.com">');
    expect(agentsPageHtml({ publicUrl: 'https://x.example/"><script>', assetVersion: 'v' })).toContain(
      'content="https://x.example/&quot;&gt;&lt;script&gt;"',
    );
    expect(escapeHtml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
  });

  it('serves the bundled script and stylesheet with an ETag, and 304 when unchanged', async () => {
    const js = await app.inject({ method: 'GET', url: '/agents/assets/app.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.body).toContain('pnpm --filter @vespid/node-agent dev -- connect');
    // Bundled: no bare imports left for the browser to resolve (it could not).
    expect(js.body).not.toMatch(/\bimport\s*[{*\w]/);
    const css = await app.inject({ method: 'GET', url: '/agents/assets/app.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    expect(css.body).toContain('@media');
    expect(css.body).not.toMatch(/url\(|@import/);
    const again = await app.inject({ method: 'GET', url: '/agents/assets/app.js', headers: { 'if-none-match': String(js.headers.etag) } });
    expect(again.statusCode).toBe(304);
    const html = await app.inject({ method: 'GET', url: '/agents' });
    expect(html.body).toContain(`/agents/assets/app.js?v=${String(js.headers.etag).replaceAll('"', '')}`);
  }, 30_000);

  it('the browser client type-checks with the DOM library', () => {
    const configPath = fileURLToPath(new URL('../../client/tsconfig.json', import.meta.url));
    const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
    expect(config?.errors ?? ['no config']).toEqual([]);
    const program = ts.createProgram({ rootNames: config!.fileNames, options: config!.options });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
    expect(config!.fileNames.some((f) => f.endsWith('client/main.ts'))).toBe(true);
    // A whole tsc program: seconds on a busy 2-core machine, so more than the unit default.
  }, 60_000);
});
