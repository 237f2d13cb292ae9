// The integrator guide's quickstart as files, taken from the guide's own snippets (not from the
// example sources): pack:check runs exactly what a reader copies, and the docs check fails when a file
// the quickstart imports (`./x.js`) is not shown in the guide.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const GUIDE = 'docs/integrator-guide.md';
const SOURCE_DIR = 'examples/embed-gateway/src/';
const ENTRY = 'quickstart.ts';
const OPEN = /^<!--\s*snippet:\s*([^#\s]+)(?:#([\w-]+))?\s*-->\s*$/;
const CLOSE = /^<!--\s*\/snippet\s*-->\s*$/;

/** File name → the text the guide shows for it (snippets of examples/embed-gateway/src). */
function shownFiles(text) {
  const shown = new Map();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = OPEN.exec(lines[i]);
    if (!m?.[1].startsWith(SOURCE_DIR)) continue;
    const close = lines.findIndex((l, j) => j > i && CLOSE.test(l));
    if (close < 0) continue;
    // Between the fences: the first and last lines of the snippet are the ``` lines.
    shown.set(m[1].slice(SOURCE_DIR.length), `${lines.slice(i + 2, close - 1).join('\n')}\n`);
    i = close;
  }
  return shown;
}

/**
 * The quickstart and every file it imports, transitively, as the guide shows them. `problems` names
 * each relative import the guide does not show.
 */
export function guideQuickstartFiles(root) {
  const shown = shownFiles(readFileSync(join(root, GUIDE), 'utf8'));
  const files = new Map();
  const problems = [];
  const visit = (name, from) => {
    if (files.has(name)) return;
    const text = shown.get(name);
    if (text === undefined) {
      problems.push(`${GUIDE}: the quickstart needs ${name}${from ? ` (imported by ${from})` : ''}, which the guide does not show`);
      return;
    }
    files.set(name, text);
    for (const m of text.matchAll(/from\s+'\.\/([\w.-]+)\.js'/g)) visit(`${m[1]}.ts`, name);
  };
  visit(ENTRY);
  return { files, problems };
}
