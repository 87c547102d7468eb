// The version `kubectl cmlock version` prints. A constant, because a bundled yargs cannot find package.json.
export const VERSION = '0.1.0';

/** Where users report bugs ("internal error ... please report this at <HOMEPAGE>/issues"). */
export const HOMEPAGE = 'https://github.com/kubectl-cmlock/kubectl-cmlock';
