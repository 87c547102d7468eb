// Stripped copies of the Linux base binaries (the registry's carry full debug info: ~150 MB → ~115 MB),
// cached by the hash of the input. Mach-O is not stripped: nothing here can run a darwin binary to prove a
// stripped one still works, and Windows' node.exe carries no symbols (they ship as a separate .pdb).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { cacheDir, targetName, type Target } from './config.ts';

export interface Stripped {
  path: string;
  /** The tool that stripped it, or why it was not stripped. */
  how: string;
}

function stripTools(t: Target): string[] {
  const native = (t.arch === 'amd64' && arch() === 'x64') || (t.arch === 'arm64' && arch() === 'arm64');
  const gnuPrefix = t.arch === 'amd64' ? 'x86_64-linux-gnu' : 'aarch64-linux-gnu';
  return [`${gnuPrefix}-strip`, ...(native ? ['strip'] : []), 'llvm-strip'];
}

const has = (tool: string): boolean => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;

/** A copy of `base` without symbols and debug info when `t` is ELF and a strip tool for its arch is here. */
export function strippedBase(t: Target, base: string): Stripped {
  if (t.format === 'macho') return { path: base, how: 'not stripped (Mach-O: cannot be run here to verify)' };
  if (t.format === 'pe') return { path: base, how: 'not stripped (PE: symbols ship separately)' };
  const tool = stripTools(t).find(has);
  if (!tool) {
    return {
      path: base,
      how: `not stripped (no strip for ${t.arch}: apt-get install binutils${t.arch === 'arm64' ? '-aarch64-linux-gnu' : ''})`,
    };
  }
  const hash = createHash('sha256').update(readFileSync(base)).digest('hex').slice(0, 16);
  const dir = join(cacheDir(), 'stripped');
  const out = join(dir, `node-${targetName(t)}-${hash}-${tool}`);
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${out}.tmp-${process.pid}`;
    copyFileSync(base, tmp);
    const r = spawnSync(tool, ['--strip-all', tmp], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) {
      rmSync(tmp, { force: true });
      throw new Error(`${tool} --strip-all failed for ${targetName(t)}: ${r.stderr}`);
    }
    renameSync(tmp, out);
  }
  return { path: out, how: `stripped with ${tool}` };
}
