/**
 * The `/agents` page's browser bundle from `examples/api/client/`. A built host (`pnpm build`,
 * `node dist/main.js`, the container image) serves the assets the build wrote to
 * `dist/agents-assets/`; run from source (tsx: dev, tests, demo) it bundles them with esbuild in
 * memory, once per process (~100 ms, paid on the first request or ahead of time by
 * {@link buildPageAssets}).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The bundled page assets. */
export interface PageAssets {
  js: string;
  css: string;
  /** Content hash of js + css, used as ETag. */
  etag: string;
}

const CLIENT_DIR = fileURLToPath(new URL('../../client/', import.meta.url));
const PROTOCOL_SRC = fileURLToPath(new URL('../../../../packages/protocol/src/error-codes.ts', import.meta.url));
// Beside dist/main.js in a built host (this module is inlined there); absent when run from source.
const PREBUILT_DIR = fileURLToPath(new URL('./agents-assets/', import.meta.url));
/** File names of the prebuilt assets in `dist/agents-assets/`. */
export const PREBUILT_FILES = { js: 'app.js', css: 'style.css' } as const;

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
  cached ??= (prebuilt() ?? bundlePageAssets()).catch((err) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

function withEtag(js: string, css: string): PageAssets {
  const etag = `"${createHash('sha256').update(js).update(css).digest('base64url').slice(0, 22)}"`;
  return { js, css, etag };
}

function prebuilt(): Promise<PageAssets> | undefined {
  const js = `${PREBUILT_DIR}${PREBUILT_FILES.js}`;
  const css = `${PREBUILT_DIR}${PREBUILT_FILES.css}`;
  if (!existsSync(js) || !existsSync(css)) return undefined;
  return Promise.resolve(withEtag(readFileSync(js, 'utf8'), readFileSync(css, 'utf8')));
}

/**
 * Bundles the page with esbuild (always, no cache); the api's build writes the result to
 * `dist/agents-assets/`.
 *
 * @example
 * ```ts
 * const { js, css } = await bundlePageAssets();
 * ```
 */
export async function bundlePageAssets(): Promise<PageAssets> {
  // Loaded only here: a built host serves prebuilt assets and never needs esbuild.
  const { build } = await import('esbuild');
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
  return withEtag(js, css);
}
