// Which names the application takes from a package, read from the import statements of the files that
// import it (esbuild's metafile says which files those are). The deferred bundle then re-exports only
// those names, and esbuild drops the rest of the package: for client-node, the generated API classes and
// models we never call, and their module set-up at first use.

import { readFileSync } from 'node:fs';
import ts from 'typescript';

/** The value names imported from `pkg` by `files`, or '*' when a file needs the whole namespace. */
export function importedNames(files: readonly string[], pkg: string): string[] | '*' {
  const names = new Set<string>();
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    let whole = false;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const arg = node.arguments[0];
        if (arg && ts.isStringLiteral(arg) && arg.text === pkg) whole = true; // import('pkg'): anything
      }
      const from = (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier;
      if (!from || !ts.isStringLiteral(from) || from.text !== pkg) {
        ts.forEachChild(node, visit);
        return;
      }
      if (ts.isImportDeclaration(node)) {
        const clause = node.importClause;
        if (!clause || clause.isTypeOnly) return; // side-effect import or `import type`
        if (clause.name || (clause.namedBindings && !ts.isNamedImports(clause.namedBindings))) whole = true;
        else
          for (const e of clause.namedBindings?.elements ?? [])
            if (!e.isTypeOnly) names.add((e.propertyName ?? e.name).text);
      } else if (!node.isTypeOnly) {
        if (!node.exportClause || !ts.isNamedExports(node.exportClause)) whole = true;
        else for (const e of node.exportClause.elements) if (!e.isTypeOnly) names.add((e.propertyName ?? e.name).text);
      }
    };
    visit(source);
    if (whole) return '*';
  }
  return [...names].sort();
}
