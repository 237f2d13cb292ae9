// TSDoc: every symbol exported by a package entry point (typedoc.json's entryPoints) carries a doc
// comment with an `@example`, and every entry file has a module comment with one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

function hasExample(decl) {
  return (
    ts.getJSDocTags(decl).some((t) => t.tagName.text === 'example') ||
    ts.getAllJSDocTags(decl, () => true).some((t) => t.tagName.text === 'example')
  );
}

function docNode(decl) {
  // `export const x = …` carries its comment on the statement, not the declaration.
  if (ts.isVariableDeclaration(decl)) return decl.parent?.parent ?? decl;
  return decl;
}

/** Problems: `entry: name` for each export without an @example. */
export function checkTsdoc(root) {
  const config = JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8'));
  const entries = config.entryPoints.map((p) => join(root, p));
  const program = ts.createProgram(entries, {
    allowJs: false,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    strict: true,
  });
  const checker = program.getTypeChecker();
  const problems = [];
  for (const entry of entries) {
    const sf = program.getSourceFile(entry);
    const rel = entry.slice(root.length + 1);
    if (!sf) {
      problems.push(`${rel}: not found`);
      continue;
    }
    const first = sf.statements[0];
    const moduleDoc = first
      ? (ts.getLeadingCommentRanges(sf.text, first.getFullStart()) ?? []).map((r) => sf.text.slice(r.pos, r.end)).join('\n')
      : '';
    if (!/@example/.test(moduleDoc)) problems.push(`${rel}: module comment has no @example`);
    const moduleSymbol = checker.getSymbolAtLocation(sf);
    if (!moduleSymbol) continue;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const decls = symbol.declarations ?? [];
      if (decls.length === 0) continue;
      if (!decls.some((d) => hasExample(docNode(d)))) {
        const d = decls[0];
        const file = d.getSourceFile().fileName.slice(root.length + 1);
        problems.push(`${rel}: export ${exported.name} (${file}) has no @example`);
      }
    }
  }
  return problems;
}
