// esbuild plugins that make the npm dependencies fit a Node single executable, and start faster in one.

import { readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { OnResolveArgs, Plugin, PluginBuild, ResolveResult } from 'esbuild';
import { repoRoot } from './config.ts';

/**
 * Resolves an import as esbuild would without the calling plugin; undefined when this is that inner resolve
 * (pluginData.real stops the recursion).
 */
async function resolveAsUsual(b: PluginBuild, args: OnResolveArgs): Promise<ResolveResult | undefined> {
  if ((args.pluginData as { real?: boolean } | undefined)?.real) return undefined;
  const { importer, resolveDir, kind } = args;
  return b.resolve(args.path, { importer, resolveDir, kind, pluginData: { real: true } });
}

/**
 * Optional native or peer modules that dependencies `require` inside try/catch (ws: bufferutil and
 * utf-8-validate; debug: supports-color; fetch polyfills: encoding). Left as runtime requires, the SEA's
 * built-in-only `require` prints a warning for each; replaced by a module that throws MODULE_NOT_FOUND, the
 * dependency takes its pure-JS path silently, exactly as when the package is not installed.
 */
const optionalRequires = ['bufferutil', 'utf-8-validate', 'supports-color', 'encoding'];

export const stubOptionalRequires: Plugin = {
  name: 'stub-optional-requires',
  setup(b) {
    const filter = new RegExp(`^(${optionalRequires.join('|')})$`);
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'cmlock-missing' }));
    b.onLoad({ filter: /.*/, namespace: 'cmlock-missing' }, (args) => ({
      contents:
        `const e = new Error(${JSON.stringify(`Cannot find module '${args.path}'`)});` +
        `e.code = 'MODULE_NOT_FOUND'; throw e;`,
      loader: 'js',
    }));
  },
};

/** Sends imports matching `filter` to `namespace`, under the repo-relative path they would resolve to. */
function divert(b: PluginBuild, filter: RegExp, namespace: string): void {
  b.onResolve({ filter }, async (args) => {
    const real = await resolveAsUsual(b, args);
    if (real === undefined) return undefined;
    if (real.errors.length) return { errors: real.errors };
    // Relative: no absolute path of this checkout may reach the output (reproducible builds).
    return { path: relative(repoRoot, real.path), namespace };
  });
}

/**
 * Every copy of string-width (yargs, cliui and wrap-ansi each carry their own 7.x/8.x; src/output/table.ts has 4.x)
 * builds an `Intl.Segmenter` when its module loads: ~10-20 ms of ICU set-up each, a third of `--help`'s
 * start-up. All our help and table text is printable ASCII, whose width is its length in every version,
 * so each import gets a wrapper that answers that case itself and loads the real module on the first
 * other string.
 */
export const fastStringWidth: Plugin = {
  name: 'fast-string-width',
  setup(b) {
    divert(b, /^string-width$/, 'cmlock-string-width');
    b.onLoad({ filter: /.*/, namespace: 'cmlock-string-width' }, (args) => ({
      loader: 'js',
      resolveDir: repoRoot,
      contents: `
const plainAscii = /^[\\x20-\\x7e\\n\\t]*$/;
const controls = /[\\n\\t]/g;
let real;
module.exports = function stringWidth(string, options) {
  // Printable ASCII is one column a character; string-width counts newlines and tabs as zero.
  if (typeof string === 'string' && plainAscii.test(string)) return string.length - (string.match(controls)?.length ?? 0);
  real ??= require(${JSON.stringify(`./${args.path}`)});
  return (real.default ?? real)(string, options);
};
`,
    }));
  },
};

/**
 * yargs imports node:assert for two internal invariant checks; loading it (with its error formatting and
 * colour detection) is ~8 ms of every start. yargs gets these two functions instead, with the same
 * contract: Object.is comparison, an AssertionError-like error otherwise.
 */
export const lightAssertForYargs: Plugin = {
  name: 'light-assert-for-yargs',
  setup(b) {
    b.onResolve({ filter: /^(node:)?assert$/ }, (args) =>
      /[\\/]node_modules[\\/]yargs[\\/]/.test(args.importer)
        ? { path: 'assert', namespace: 'cmlock-assert' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'cmlock-assert' }, () => ({
      loader: 'js',
      contents: `
function fail(message, actual, expected, operator) {
  const e = new Error(message ?? \`Expected values to be \${operator}: \${String(actual)} vs \${String(expected)}\`);
  e.name = 'AssertionError';
  e.code = 'ERR_ASSERTION';
  Object.assign(e, { actual, expected, operator });
  throw e;
}
exports.strictEqual = (a, b, m) => { if (!Object.is(a, b)) fail(m, a, b, 'strictly equal'); };
exports.notStrictEqual = (a, b, m) => { if (Object.is(a, b)) fail(m, a, b, 'strictly unequal'); };
`,
    }));
  },
};

/**
 * After a command's handler, yargs renders that command's whole help text and keeps it, for a failure that
 * might print it later (command.js, `cacheHelpMessage`). cmlock's handler only records the command, and its
 * `fail` throws without printing help: the text was never used, and rendering it was ~6 ms of every command
 * (a CPU profile of `ls`). The call is taken out of the bundled yargs; the build fails if it is not found.
 */
export const noYargsHelpCache: Plugin = {
  name: 'no-yargs-help-cache',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]yargs[\\/]build[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const call = 'yargs.getInternalMethods().getUsageInstance().cacheHelpMessage();';
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(call)) throw new Error(`${args.path}: no ${call} to take out (a new yargs?)`);
      return { loader: 'js', contents: source.replace(call, '/* help not cached: see noYargsHelpCache */') };
    });
  },
};

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * In the application a deferred package is a CommonJS module that, when first required, asks the
 * executable's main script (src/sea-main.ts) to run it from the assets, or, when the bundle
 * runs under plain node (`node dist/kubectl-cmlock.cjs`), requires the file next to it. Whether that happens
 * at start-up or at first use is decided by how src/ imports the package.
 */
export function deferPackages(deferred: Record<string, string>, fileOf: (key: string) => string): Plugin {
  return {
    name: 'defer-packages',
    setup(b) {
      const filter = new RegExp(`^(${Object.keys(deferred).map(escapeRe).join('|')})$`);
      b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'cmlock-deferred' }));
      b.onLoad({ filter: /.*/, namespace: 'cmlock-deferred' }, (args) => {
        const key = deferred[args.path] ?? '';
        return {
          loader: 'js',
          contents: `
const load = globalThis[Symbol.for('kubectl-cmlock.load')];
module.exports = load ? load(${JSON.stringify(key)}) : require(require('node:path').join(__dirname, ${JSON.stringify(basename(fileOf(key)))}));
`,
        };
      });
    },
  };
}

/**
 * client-node imports three names from undici (`fetch`, `Agent`, `ProxyAgent`) at the top of its modules, for its
 * generated API classes and KubeConfig.applySecurityAuthentication. cmlock uses neither: it sends its requests
 * through node:https with KubeConfig.applyToHTTPSOptions (src/kube/transport.ts). undici is ~540 KiB of code that
 * would only be carried along, so each name is a getter that throws if it is ever used.
 */
export const leaveOutUndici: Plugin = {
  name: 'leave-out-undici',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: 'undici', namespace: 'cmlock-no-undici' }));
    b.onLoad({ filter: /.*/, namespace: 'cmlock-no-undici' }, () => ({
      loader: 'js',
      contents: `
const missing = (name) => () => {
  throw new Error('undici.' + name + ' is not part of kubectl-cmlock (src/kube/transport.ts sends every request)');
};
for (const name of ['fetch', 'Agent', 'ProxyAgent']) {
  Object.defineProperty(exports, name, { enumerable: true, get: missing(name) });
}
`,
    }));
  },
};

/**
 * Packages that client-node's KubeConfig imports at the top of its modules but needs only for some kubeconfigs:
 * YAML parsing (cmlock parses kubeconfigs itself), the Azure, GCP and OIDC auth providers, and the SOCKS and
 * HTTP proxy agents. Evaluated with KubeConfig, they were ~20 ms of CPU in every command that talks to the API
 * server (npm run bench). Each becomes a module of getters, one per export name (read from the package at
 * build time), that loads the real package on first use; esbuild's CommonJS interop reads names through
 * getters, so a kubeconfig with a plain token or client certificate never loads them.
 */
const lazyForClientNode = [
  'js-yaml',
  'jsonpath-plus',
  'openid-client',
  'rfc4648',
  'socks',
  'socks-proxy-agent',
  'hpagent',
];

export const lazyClientNodeImports: Plugin = {
  name: 'lazy-client-node-imports',
  setup(b) {
    const filter = new RegExp(`^(${lazyForClientNode.map(escapeRe).join('|')})$`);
    b.onResolve({ filter }, async (args) => {
      if (!args.importer.includes('/node_modules/@kubernetes/client-node/')) return undefined;
      const real = await resolveAsUsual(b, args);
      if (real === undefined) return undefined;
      if (real.errors.length) return { errors: real.errors };
      // The suffix keeps the shim CommonJS: esbuild would read a path ending in .mjs as an ES module.
      return { path: `${relative(repoRoot, real.path)}.lazy.cjs`, namespace: 'cmlock-lazy' };
    });
    b.onLoad({ filter: /.*/, namespace: 'cmlock-lazy' }, async (args) => {
      const path = args.path.slice(0, -'.lazy.cjs'.length);
      const names = Object.keys((await import(pathToFileURL(join(repoRoot, path)).href)) as object).filter(
        (name) => name !== 'default' && name !== '__esModule' && name !== 'module.exports',
      );
      return {
        loader: 'js',
        resolveDir: repoRoot,
        contents: `
let real;
const load = () => (real ??= require(${JSON.stringify(`./${path}`)}));
for (const name of ${JSON.stringify(names)}) {
  Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });
}
`,
      };
    });
  },
};

/**
 * client-node's index re-exports every module it has (exec, attach, port-forward, cp, metrics, informers...),
 * and its modules import ws, tar-fs, socks and more at their top level. esbuild must keep any module whose
 * loading may have side effects, so all of that was evaluated on every call to the API server. None of those
 * modules has a side effect we rely on (the one polyfill sets `File` for Node 18), so imports made by
 * client-node are declared free of side effects: what src/ does not use is left out.
 */
export const clientNodeTreeShaking: Plugin = {
  name: 'client-node-tree-shaking',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (!args.importer.includes('/node_modules/@kubernetes/client-node/')) return undefined;
      if (args.path.startsWith('node:') || args.path === 'undici') return undefined;
      const real = await resolveAsUsual(b, args);
      if (real === undefined || real.errors.length || real.external || real.namespace !== 'file') return undefined;
      return { path: real.path, sideEffects: false };
    });
  },
};
