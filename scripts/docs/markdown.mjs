// Markdown helpers shared by the docs checks: which files are docs, their fenced blocks and links.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** README.md, every docs/**\/*.md except the generated docs/api, and every package/example README. */
export function docFiles(root) {
  const out = ['README.md'];
  const walk = (dir) => {
    for (const name of readdirSync(join(root, dir))) {
      const rel = join(dir, name);
      if (rel === join('docs', 'api')) continue;
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (name.endsWith('.md')) out.push(rel);
    }
  };
  walk('docs');
  for (const group of ['packages', 'examples']) {
    for (const name of readdirSync(join(root, group))) {
      const readme = join(group, name, 'README.md');
      if (existsSync(join(root, readme))) out.push(readme);
    }
  }
  return out;
}

/** Fenced code blocks with their language and line numbers (1-based, of the opening fence). */
export function fencedBlocks(text) {
  const lines = text.split('\n');
  const blocks = [];
  let open;
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[i]);
    if (!m) continue;
    if (!open) open = { fence: m[2], lang: m[3].toLowerCase(), line: i + 1, start: i };
    else if (lines[i].trim().startsWith(open.fence) && lines[i].trim().replace(/[`~]/g, '') === '') {
      blocks.push({ lang: open.lang, line: open.line, start: open.start, end: i, body: lines.slice(open.start + 1, i).join('\n') });
      open = undefined;
    }
  }
  return blocks;
}

/** GitHub's heading anchor slug. */
export function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Anchors of a markdown file's headings (outside code blocks). */
export function anchors(text) {
  const inCode = new Set();
  for (const b of fencedBlocks(text)) for (let i = b.start; i <= b.end; i++) inCode.add(i);
  const seen = new Map();
  const out = new Set();
  text.split('\n').forEach((line, i) => {
    const m = /^#{1,6}\s+(.*)$/.exec(line);
    if (!m || inCode.has(i)) return;
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  });
  return out;
}

/** Inline links `[text](target)` outside code blocks and code spans, with line numbers. */
export function links(text) {
  const inCode = new Set();
  for (const b of fencedBlocks(text)) for (let i = b.start; i <= b.end; i++) inCode.add(i);
  const out = [];
  text.split('\n').forEach((line, i) => {
    if (inCode.has(i)) return;
    const clean = line.replace(/`[^`]*`/g, '');
    for (const m of clean.matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) out.push({ target: m[1], line: i + 1 });
  });
  return out;
}

export const read = (root, rel) => readFileSync(join(root, rel), 'utf8');
export const rel = (root, abs) => relative(root, abs);
