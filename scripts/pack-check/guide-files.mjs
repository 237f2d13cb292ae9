// Writes the integrator guide's quickstart files (as the guide shows them) into the current directory;
// fails when the quickstart imports a file the guide does not show. Used by scripts/pack-check.sh.
import { writeFileSync } from 'node:fs';
import { guideQuickstartFiles } from '../docs/guide-files.mjs';

const root = process.argv[2];
if (!root) throw new Error('usage: node guide-files.mjs <repo root>');
const { files, problems } = guideQuickstartFiles(root);
if (problems.length) {
  for (const p of problems) process.stderr.write(`pack-check: ${p}\n`);
  process.exit(1);
}
for (const [name, text] of files) writeFileSync(name, text);
process.stdout.write(`quickstart files from the guide: ${[...files.keys()].join(', ')}\n`);
