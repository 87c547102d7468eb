import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemClock } from '../../../src/lock/clock.ts';

test('systemClock: monotonic now, real sleep, abort with the reason', async () => {
  const before = systemClock.now();
  await systemClock.sleep(5);
  assert.ok(systemClock.now() - before >= 4);
  const controller = new AbortController();
  const reason = new Error('stop');
  const sleeping = systemClock.sleep(60_000, controller.signal);
  controller.abort(reason);
  await assert.rejects(sleeping, (e: unknown) => e === reason);
  await assert.rejects(systemClock.sleep(1, controller.signal), (e: unknown) => e === reason);
  const r = systemClock.random();
  assert.ok(r >= 0 && r < 1);
});

test('systemClock: a sleep longer than setTimeout allows (24.8 days) does not fire at once', async () => {
  const controller = new AbortController();
  let resolved = false;
  const sleeping = systemClock.sleep(2 ** 40, controller.signal).then(() => (resolved = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(resolved, false);
  controller.abort(new Error('done'));
  await assert.rejects(sleeping);
});
