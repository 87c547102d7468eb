// Where the dev scripts and tests find things: the repository, and the cache outside it (the control plane's
// binary, Node distributions, stripped builds) that a fresh clone on the same machine reuses. One home for both.

import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Shared by every dev script, outside the repository; XDG_CACHE_HOME as usual. */
export function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kubectl-cmlock-dev');
}
