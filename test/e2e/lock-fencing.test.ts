// Fencing tokens strictly increase across successive acquisitions of one lock name: 50 handoffs between
// different identities, most by release (handed to the waiter first in line, which confirms with a write of its
// own, or deleted and created again), every tenth by takeover of an expired lease (an update). Two waiters are always queued (started ahead, so their start-up is not on the
// critical path); each handoff is observed before the next can happen, so the order is known.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testNamespace, uniqueName } from './harness.ts';
import { cmlockOk, getConfigMap, parseLock, show, startCmlock, type Started } from './lock-helpers.ts';

const HANDOFFS = 50;

interface Waiter {
  identity: string;
  /** Holds a 1s lease and is not released: the next waiter takes it over once it expires. */
  expires: boolean;
  process: Started;
}

test(`fencing tokens strictly increase over ${HANDOFFS} handoffs (release and re-create, and takeover)`, async (t) => {
  const ns = await testNamespace(t, 'fence');
  const name = uniqueName('fence');
  let started = 0;
  const startWaiter = (): Waiter => {
    const i = started++;
    const expires = i % 10 === 9;
    const identity = `holder-${i}`;
    const args = [
      'acquire',
      name,
      '-n',
      ns,
      '--identity',
      identity,
      '--ttl',
      expires ? '1s' : '10m',
      '--timeout',
      '3m',
    ];
    return { identity, expires, process: startCmlock([...args, '-o', 'json'], { timeoutMs: 240_000 }) };
  };
  const queue = [startWaiter(), startWaiter()];
  const fences: bigint[] = [];
  const handoffs: string[] = [];

  while (fences.length < HANDOFFS) {
    const holder = await Promise.race(queue.map((w) => w.process.done.then(() => w)));
    queue.splice(queue.indexOf(holder), 1);
    const r = await holder.process.done;
    assert.equal(r.code, 0, `${holder.identity}: ${show(r)}`);
    const lock = parseLock(r.stdout, ['waiters']); // the next one may already wait in line
    assert.equal(lock.holder, holder.identity);
    const fence = BigInt(lock.fence);
    const previous = fences.at(-1);
    assert.ok(previous === undefined || fence > previous, `fence ${fence} after ${previous} (${handoffs.join(', ')})`);
    fences.push(fence);
    handoffs.push(`${holder.identity}:${lock.fence}`);
    if (started < HANDOFFS) queue.push(startWaiter());
    if (holder.expires) continue;
    // Mutual exclusion while it is held: no queued waiter got it too.
    assert.ok(
      queue.every((w) => !w.process.exited()),
      `nobody else acquired while ${holder.identity} held it`,
    );
    // -v 6: should a release ever hang, the hang guard's message shows its last request.
    const released = await cmlockOk(['release', name, '-n', ns, '--identity', holder.identity, '-v', '6'], {
      timeoutMs: 180_000,
    });
    assert.match(released.stdout, /^released lock/);
  }
  assert.equal(queue.length, 0);
  assert.equal(new Set(fences).size, HANDOFFS);
  const last = await getConfigMap(ns, name);
  assert.ok(last === undefined || last.data?.['holderIdentity'] === `holder-${HANDOFFS - 1}`);
});
