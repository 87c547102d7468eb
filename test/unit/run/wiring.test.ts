// The production pieces fit runLocked's injected interfaces (checked by tsc; run here so the import is exercised).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemClock } from '../../../src/lock/clock.ts';
import { acquire, release, renewFrom } from '../../../src/lock/protocol.ts';
import { startChildProcess, type StartChild } from '../../../src/run/child.ts';
import type { LockFunctions, SignalSource } from '../../../src/run/run.ts';

test('the lock protocol, the system clock, the child starter and process signals fit runLocked', () => {
  const lock: LockFunctions = { acquire, renewFrom, release };
  const spawn: StartChild = startChildProcess;
  const signals: SignalSource = { on: (s, h) => process.on(s, h), off: (s, h) => process.off(s, h) };
  assert.equal(typeof lock.acquire, 'function');
  assert.equal(typeof spawn, 'function');
  assert.equal(typeof signals.on, 'function');
  assert.equal(typeof systemClock.now(), 'number');
});
