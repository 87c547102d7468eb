// Lock views for the renderer tests. The server's clock reads NOW.

import type { DescribedLock, LockView } from '../../../src/lock/types.ts';

/** 2026-11-26T06:35:00Z */
export const NOW = Date.UTC(2026, 10, 26, 6, 35, 0);

export function view(overrides: Partial<LockView> = {}): LockView {
  return {
    name: 'db-migrate',
    namespace: 'default',
    holder: 'alice@laptop',
    user: 'alice',
    host: 'laptop',
    acquireTime: '2026-11-26T06:30:00Z',
    renewTime: '2026-11-26T06:30:00Z',
    leaseDurationSeconds: 1800,
    expiresAt: '2026-11-26T07:00:00Z',
    status: 'Held',
    reason: 'schema v42',
    fence: '1234',
    owner: '',
    labels: { 'app.kubernetes.io/managed-by': 'kubectl-cmlock' },
    creationTimestamp: '2026-11-26T06:30:00Z',
    foreign: false,
    ...overrides,
  };
}

export function described(overrides: Partial<DescribedLock> = {}): DescribedLock {
  return { ...view(), uid: 'uid-1', resourceVersion: '1234', events: [], ...overrides };
}

export const HOSTILE_CLEAR = '\u001b[2J';
export const HOSTILE_ROW = 'evil\nNAME HOLDER';
