/**
 * Builds the `/agents` page's browser bundle from `examples/api/client/` with esbuild, in memory, once
 * per process. No build step to forget and nothing generated in git; the cost (~100 ms) is paid on the
 * first request for an asset (or ahead of time by calling {@link buildPageAssets}).
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The bundled page assets. */
export interface PageAssets {
  js: string;
  css: string;
  /** Content hash of js + css, used as ETag. */
  etag: string;
}

const CLIENT_DIR = fileURLToPath(new URL('../../client/', import.meta.url));
const PROTOCOL_SRC = fileURLToPath(new URL('../../../../packages/protocol/src/error-codes.ts', import.meta.url));

let cached: Promise<PageAssets> | undefined;

/**
 * Bundles (once) and returns the page's JavaScript and CSS. A failed build is not cached, so the next
 * request retries.
 *
 * @example
 * ```ts
 * const { js, css } = await buildPageAssets();
 * ```
 */
export function buildPageAssets(): Promise<PageAssets> {
  cached ??= bundle().catch((err) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

async function bundle(): Promise<PageAssets> {
  const result = await build({
    entryPoints: { app: `${CLIENT_DIR}main.ts`, style: `${CLIENT_DIR}styles.css` },
    bundle: true,
    write: false,
    outdir: '/agents-assets',
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    // The page reuses the protocol's error catalogue (a dependency-free module) straight from source.
    alias: { '@vespid/protocol': PROTOCOL_SRC },
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '';
  const etag = `"${createHash('sha256').update(js).update(css).digest('base64url').slice(0, 22)}"`;
  return { js, css, etag };
}
