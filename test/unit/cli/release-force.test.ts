// release --force is break-glass and recorded: the ForceReleased event names the authenticated Kubernetes user
// (from the server), not only the free-text identity, which anyone can set with --identity.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BOB, cmlock } from '../lock/fakes.ts';
import { harness, run } from './fakes.ts';

describe('release --force', () => {
  it('records the authenticated user of whoever broke the lock', async () => {
    const h = harness(['release', 'db-migrate', '--force', '--identity', 'bob-impostor'], { user: 'carol' });
    h.store.seed(cmlock({ holder: BOB, reason: 'deploy' }));
    assert.deepEqual(await run(h), { code: 0 });
    const events = h.store.recorded.filter((e) => e.reason === 'ForceReleased');
    assert.equal(events.length, 1);
    assert.equal(events[0]?.type, 'Warning');
    assert.equal(events[0]?.message, 'bob-impostor (user carol) force-released the lock held by bob@host2');
  });
});
