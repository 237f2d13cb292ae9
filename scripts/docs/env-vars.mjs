// Env vars: which variables the code reads (found in the AST of packages/*/src and examples/*/src,
// tests and fixtures excluded), compared with the reference table of docs/environment.md.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const NAME = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$|^[A-Z]{2,}$/;
const SKIP = /(\.test\.ts|\.int\.test\.ts|\.fixture\.ts|\.d\.ts|harness\.ts)$/;

function sourceFiles(root) {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(join(root, dir))) {
      if (name === 'node_modules' || name === 'dist') continue;
      const rel = join(dir, name);
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (/\.(ts|mts|tsx)$/.test(name) && !SKIP.test(name) && !/\/test-[^/]*\.ts$|\/test-support\//.test(rel)) out.push(rel);
    }
  };
  for (const group of ['packages', 'examples']) {
    for (const pkg of readdirSync(join(root, group))) {
      try {
        if (statSync(join(root, group, pkg, 'src')).isDirectory()) walk(join(group, pkg, 'src'));
      } catch {}
    }
  }
  return out;
}

const isEnvExpr = (e) => {
  const text = e.getText();
  return text === 'env' || text.endsWith('.env') || /(^|\W)env$/.test(text);
};

/** Map of env var name → files that read it. */
export function envVarsRead(root) {
  const found = new Map();
  const add = (name, file) => {
    if (!NAME.test(name)) return;
    if (!found.has(name)) found.set(name, new Set());
    found.get(name).add(file);
  };
  for (const file of sourceFiles(root)) {
    const sf = ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      // env.X, process.env.X, options.env.X
      if (ts.isPropertyAccessExpression(node) && isEnvExpr(node.expression)) add(node.name.text, file);
      // env['X']
      if (ts.isElementAccessExpression(node) && isEnvExpr(node.expression) && ts.isStringLiteralLike(node.argumentExpression)) {
        add(node.argumentExpression.text, file);
      }
      // helper(env, 'X', …): int(env, 'NODE_EXEC_TIMEOUT_MS', …), str(env, 'VESPID_AGENT_DOCKER_IMAGE')
      if (
        ts.isCallExpression(node) &&
        node.arguments.length >= 2 &&
        isEnvExpr(node.arguments[0]) &&
        ts.isStringLiteralLike(node.arguments[1])
      ) {
        add(node.arguments[1].text, file);
      }
      // const EnvSchema = z.object({ GATEWAY_PORT: … }): keys read through the schema
      if (ts.isVariableDeclaration(node) && /env/i.test(node.name.getText()) && node.initializer) {
        const visitObj = (n) => {
          if (ts.isObjectLiteralExpression(n)) {
            for (const p of n.properties) if (p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) add(p.name.text, file);
          }
          ts.forEachChild(n, visitObj);
        };
        visitObj(node.initializer);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found;
}

/** Names in the first column of the tables of the env reference (`| \`NAME\` | …`). */
export function envVarsDocumented(text) {
  const out = new Map();
  text.split('\n').forEach((line, i) => {
    const m = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/.exec(line);
    if (m) out.set(m[1], i + 1);
  });
  return out;
}

/** Env-looking names (`NAME` or NAME=value) mentioned anywhere in a markdown text. */
export function envLikeMentions(text) {
  const out = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?:=[^`]*)?`/g)) out.push({ name: m[1], line: i + 1 });
  });
  return out;
}
