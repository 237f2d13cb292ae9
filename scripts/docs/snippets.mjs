// Snippets: every TypeScript/JavaScript block in the docs is a copy of a region of a compiled, tested
// example file, fenced by `<!-- snippet: path#region -->` … `<!-- /snippet -->`. The check compares the
// copy with the source; `--write` refreshes the copies.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fencedBlocks } from './markdown.mjs';

const CODE_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs', 'cjs', 'tsx', 'jsx']);
const OPEN = /^<!--\s*snippet:\s*([^#\s]+)(?:#([\w-]+))?\s*-->\s*$/;
const CLOSE = /^<!--\s*\/snippet\s*-->\s*$/;

/** The text of `#region name` … `#endregion name` in a file (the whole file without markers if no name). */
export function region(root, file, name) {
  const text = readFileSync(join(root, file), 'utf8');
  const lines = text.split('\n');
  const isMarker = (l) => /^\s*\/\/\s*#(end)?region\b/.test(l);
  if (!name)
    return lines
      .filter((l) => !isMarker(l))
      .join('\n')
      .trimEnd();
  const start = lines.findIndex((l) => new RegExp(`^\\s*//\\s*#region\\s+${name}\\s*$`).test(l));
  const end = lines.findIndex((l, i) => i > start && new RegExp(`^\\s*//\\s*#endregion\\s+${name}\\s*$`).test(l));
  if (start < 0 || end < 0) return undefined;
  return lines
    .slice(start + 1, end)
    .filter((l) => !isMarker(l))
    .join('\n')
    .trimEnd();
}

/** A source counts as tested when it is a test file or a test file of its folder imports it. */
function testedBy(root, file) {
  if (/\.test\.ts$/.test(file)) return file;
  const dir = dirname(file);
  const stem = basename(file).replace(/\.(ts|mts|cts)$/, '');
  for (const name of readdirSync(join(root, dir))) {
    if (!/\.test\.ts$/.test(name)) continue;
    const text = readFileSync(join(root, dir, name), 'utf8');
    if (new RegExp(`from '\\./${stem}\\.js'`).test(text)) return join(dir, name);
  }
  return undefined;
}

/** Checks (or with write=true refreshes) the snippets of one markdown text; returns problems and the new text. */
export function checkSnippets(root, docPath, text, { write = false } = {}) {
  const problems = [];
  const lines = text.split('\n');
  const out = [];
  const covered = new Set();
  for (let i = 0; i < lines.length; i++) {
    const m = OPEN.exec(lines[i]);
    if (!m) {
      out.push(lines[i]);
      continue;
    }
    const [, file, name] = m;
    const where = `${docPath}:${i + 1}`;
    const close = lines.findIndex((l, j) => j > i && CLOSE.test(l));
    if (close < 0) {
      problems.push(`${where}: snippet ${file} has no closing <!-- /snippet -->`);
      out.push(lines[i]);
      continue;
    }
    // A package manifest is used as-is by pnpm install and the tests; code lives in compiled src/.
    const manifest = /^(examples|packages)\/[^/]+\/package\.json$/.test(file);
    if (!manifest && !/^(examples|packages)\/[^/]+\/(src|test)\/.+\.ts$/.test(file)) {
      problems.push(`${where}: snippet source ${file} must be a .ts file in examples/*/src or packages/*/src (compiled by pnpm typecheck)`);
    }
    const source = existsSync(join(root, file)) ? region(root, file, name) : undefined;
    if (source === undefined) problems.push(`${where}: snippet source ${file}${name ? `#${name}` : ''} not found`);
    else if (!manifest && !testedBy(root, file))
      problems.push(`${where}: snippet source ${file} is not covered by a colocated *.test.ts importing it`);
    const fence = lines.slice(i + 1, close).find((l) => /^```/.test(l));
    const lang = fence ? fence.replace(/^```/, '').trim() || 'ts' : file.endsWith('.json') ? 'json' : 'ts';
    const body = lines.slice(i + 1, close);
    const current = body.slice(1, -1).join('\n').trimEnd();
    if (source !== undefined && current !== source) {
      if (!write) problems.push(`${where}: snippet differs from ${file}${name ? `#${name}` : ''} (run pnpm docs:check --write)`);
    }
    out.push(lines[i], `\`\`\`${lang}`, ...(write && source !== undefined ? source : current).split('\n'), '```', lines[close]);
    for (let j = i; j <= close; j++) covered.add(j);
    i = close;
  }
  const newText = out.join('\n');
  for (const b of fencedBlocks(text)) {
    if (CODE_LANGS.has(b.lang) && !covered.has(b.start)) {
      problems.push(
        `${docPath}:${b.line}: a ${b.lang} block that is not a snippet of a tested file (wrap it in <!-- snippet: path#region -->)`,
      );
    }
  }
  return { problems, text: newText };
}
