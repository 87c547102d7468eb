// The identity run holds a lock under.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runHolderIdentity } from '../../../src/run/identity.ts';

test('runHolderIdentity: unique per run process', () => {
  assert.equal(
    runHolderIdentity('alice@host1', 4242, () => 0.5),
    'alice@host1/run-4242-8000',
  );
  assert.equal(
    runHolderIdentity('alice@host1', 7, () => 0),
    'alice@host1/run-7-0000',
  );
  assert.equal(
    runHolderIdentity('alice@host1', 7, () => 0.99999),
    'alice@host1/run-7-ffff',
  );
});
