// Waiting without polling: one watch, an expiry timer, re-watch with capped jittered backoff.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, CmlockError, HeldError } from '../../../src/errors.ts';
import { PROTOCOL_BACKOFF } from '../../../src/lock/operation.ts';
import { RetryableError, type StoredLock } from '../../../src/lock/store.ts';
import { waitForChange, waitUntilFree } from '../../../src/lock/wait.ts';
import { cmlock, expectCall, fixture, outcome, SERVER_START_MS, START_MONO, type Fixture } from './fakes.ts';

const held = (spec: Parameters<typeof cmlock>[0] = {}) => cmlock({ ttlSeconds: 30, ...spec });
const neverExpires = () => cmlock({ ttlSeconds: 0 });
const renewedAt = (ms: number, resourceVersion: string) =>
  cmlock({ ttlSeconds: 30, renewMs: SERVER_START_MS + ms, resourceVersion });

function wait(f: Fixture, seen: StoredLock, options: { deadline?: number; wakeOn?: (l: StoredLock) => boolean } = {}) {
  return outcome(
    f.clock,
    waitForChange(f.ctx, 'db-migrate', seen, options.deadline, undefined, {
      operation: 'wait',
      wakeOn: options.wakeOn,
    }),
  );
}

describe('waitForChange', () => {
  test('resolves on a DELETED event, watching from the resourceVersion seen', async () => {
    const f = fixture();
    f.store.script(expectCall.watch([{ afterMs: 4000 }, { type: 'DELETED', lock: held() }]));
    const got = await wait(f, held());
    f.store.verify();
    assert.equal(got.value, undefined);
    assert.equal(got.error, undefined);
    assert.equal(f.clock.now(), START_MONO + 4000);
    assert.deepEqual(f.store.callsOf('watch')[0], { method: 'watch', name: 'db-migrate', resourceVersion: '50' });
  });

  test('resolves on a modification', async () => {
    const f = fixture();
    f.store.script(expectCall.watch([{ type: 'MODIFIED', lock: renewedAt(0, '51') }]));
    const got = await wait(f, held());
    assert.equal(got.value?.resourceVersion, '51');
  });

  test('a dead holder sends nothing: the expiry timer resolves just past lease + 1 s on the server clock', async () => {
    const f = fixture();
    f.store.script(expectCall.watch(['hang']));
    const seen = held({ renewMs: SERVER_START_MS - 10_000 }); // expires 20 s from now
    const got = await wait(f, seen);
    f.store.verify();
    assert.equal(got.value?.resourceVersion, '50');
    assert.equal(f.clock.now(), START_MONO + 20_000 + 1001);
    assert.deepEqual(f.store.methods(), ['watch'], 'no read: the timer decides, the caller acts');
  });

  test('renewals that do not wake the waiter move the timer and keep the one watch: load does not grow', async () => {
    const f = fixture();
    const stream = [];
    for (let i = 1; i <= 60; i++)
      stream.push({ afterMs: 10_000 }, { type: 'MODIFIED' as const, lock: renewedAt(i * 10_000, String(50 + i)) });
    f.store.script(expectCall.watch([...stream, 'hang']));
    const got = await wait(f, held(), { wakeOn: () => false });
    f.store.verify();
    assert.deepEqual(f.store.methods(), ['watch'], 'ten minutes of renewals, one watch, no reads');
    assert.equal(got.value?.resourceVersion, '110');
    assert.equal(f.clock.now(), START_MONO + 600_000 + 31_001);
  });

  test('410 Gone: re-read and re-watch with jittered, capped, growing pauses, never 0', async () => {
    const f = fixture({ random: cycle([0, 0.999999]) });
    const rounds = 9;
    for (let i = 0; i < rounds; i++)
      f.store.script(expectCall.watch([{ type: 'GONE' }]), expectCall.get(neverExpires()));
    f.store.script(expectCall.watch([{ type: 'DELETED', lock: neverExpires() }]));
    const got = await wait(f, neverExpires());
    f.store.verify();
    assert.equal(got.value, undefined);
    const sleeps = f.clock.sleeps;
    assert.equal(sleeps.length, rounds);
    const bases = [250, 500, 1000, 2000, 4000, 8000, 8000, 8000, 8000];
    sleeps.forEach((ms, i) => {
      const base = bases[i] ?? 0;
      assert.ok(ms >= base / 2 && ms < base, `pause ${i} = ${ms} not in [${base / 2}, ${base})`);
      assert.ok(ms > 0 && ms <= PROTOCOL_BACKOFF.maxMs);
    });
    assert.notEqual(sleeps[6], sleeps[7], 'jittered');
  });

  test('an event resets the backoff', async () => {
    const f = fixture({ random: 0 });
    f.store.script(
      expectCall.watch([{ type: 'GONE' }]),
      expectCall.get(neverExpires()),
      expectCall.watch([{ type: 'GONE' }]),
      expectCall.get(neverExpires()),
      expectCall.watch([{ type: 'BOOKMARK', resourceVersion: '77' }]), // then the stream ends
      expectCall.get(neverExpires()),
      expectCall.watch([{ type: 'DELETED', lock: neverExpires() }]),
    );
    await wait(f, neverExpires());
    f.store.verify();
    assert.deepEqual(f.clock.sleeps, [125, 250, 125]);
  });

  test('a re-read that shows a change re-watches from the new resourceVersion', async () => {
    const f = fixture();
    f.store.script(
      expectCall.watch([{ type: 'GONE' }]),
      expectCall.get(renewedAt(0, '60')),
      expectCall.watch([{ type: 'DELETED', lock: held() }]),
    );
    await wait(f, held(), { wakeOn: () => false });
    f.store.verify();
    assert.deepEqual(
      f.store.callsOf('watch').map((c) => c.resourceVersion),
      ['50', '60'],
    );
  });

  test('a re-read that finds the lock gone resolves', async () => {
    const f = fixture();
    f.store.script(expectCall.watch([]), expectCall.get(undefined));
    const got = await wait(f, held());
    f.store.verify();
    assert.equal(got.value, undefined);
    assert.equal(got.error, undefined);
  });

  test('transport errors (watch or re-read) are ridden out with backoff; a failed re-read is read again', async () => {
    const f = fixture({ random: 0 });
    f.store.script(
      expectCall.watch([{ afterMs: 1000 }, { error: new TypeError('fetch failed') }]),
      expectCall.fails('get', new RetryableError('connection refused')),
      expectCall.get(neverExpires()),
      expectCall.watch([{ type: 'DELETED', lock: neverExpires() }]),
    );
    const got = await wait(f, neverExpires());
    f.store.verify();
    assert.equal(got.error, undefined);
    assert.deepEqual(f.clock.sleeps, [1000, 125, 250], "the stream's own second, then two growing pauses");
  });

  test('an API error that will not heal (e.g. 403 on watch) ends the wait', async () => {
    const f = fixture();
    const forbidden = new CmlockError('configmaps "db-migrate" is forbidden: cannot watch');
    f.store.script(expectCall.watch([{ error: forbidden }]));
    const got = await wait(f, held());
    f.store.verify();
    assert.equal(got.error, forbidden);
  });

  test('the deadline rejects with HeldError naming the holder', async () => {
    const f = fixture();
    f.store.script(expectCall.watch(['hang']));
    const got = await outcome(
      f.clock,
      waitForChange(f.ctx, 'db-migrate', held(), START_MONO + 2000, undefined, {
        operation: 'wait',
        startedMono: START_MONO - 1000,
      }),
    );
    assert.ok(got.error instanceof HeldError);
    assert.match(got.error.message, /^timed out after 3s waiting for lock "db-migrate" \(held by bob@host2 /);
  });

  test('the timeout is reported as given, though monotonic times are fractional', async () => {
    // performance.now() is fractional: (7200.0137 + 1000) - 7200.0137 is 999.9999999999991, which once printed as
    // "1000ms" (CI, lock-rbac.test.ts). The clock is past this deadline, so it times out at once.
    const f = fixture();
    f.store.script(expectCall.watch(['hang']));
    const started = 7200.0137;
    const got = await outcome(
      f.clock,
      waitForChange(f.ctx, 'db-migrate', held(), started + 1000, undefined, {
        operation: 'wait',
        startedMono: started,
      }),
    );
    assert.ok(got.error instanceof HeldError);
    assert.match(got.error.message, /^timed out after 1s waiting for lock "db-migrate" /);
  });

  test('abort rejects with CancelledError and closes the watch', async () => {
    const f = fixture();
    const controller = new AbortController();
    f.store.script(expectCall.watch(['hang']));
    const running = waitForChange(f.ctx, 'db-migrate', neverExpires(), undefined, controller.signal, {
      operation: 'wait',
    });
    await f.clock.advance(500);
    controller.abort();
    const got = await outcome(f.clock, running);
    assert.ok(got.error instanceof CancelledError);
    assert.equal(f.clock.pending, 0, 'no timer left behind');
  });
});

function cycle(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}

describe('waitUntilFree', () => {
  const run = (f: Fixture, timeoutMs: number) =>
    outcome(f.clock, waitUntilFree(f.ctx, { name: 'db-migrate', timeoutMs }));

  test('no such lock: free at once', async () => {
    const f = fixture();
    f.store.script(expectCall.get(undefined));
    const got = await run(f, 0);
    f.store.verify();
    assert.equal(got.error, undefined);
    assert.equal(got.value, undefined);
  });

  test('expired: free at once', async () => {
    const f = fixture();
    f.store.script(expectCall.get(held({ renewMs: SERVER_START_MS - 60_000 })));
    const got = await run(f, 0);
    assert.equal(got.value?.status, 'Expired');
  });

  test('held, timeout 0: HeldError at once', async () => {
    const f = fixture();
    f.store.script(expectCall.get(held({ reason: 'deploy' })));
    const got = await run(f, 0);
    f.store.verify();
    assert.ok(got.error instanceof HeldError);
    assert.equal(
      got.error.message,
      'lock "db-migrate" is held by bob@host2 (user bob) since 2026-11-26T06:30:00Z, reason "deploy", ' +
        'expires 2026-11-26T06:30:30Z (in 30s)',
    );
  });

  test('held past the timeout: "timed out after 30s waiting for lock ..."', async () => {
    const f = fixture();
    f.store.script(expectCall.get(cmlock()), expectCall.watch(['hang']));
    const got = await run(f, 30_000);
    f.store.verify();
    assert.equal(
      got.error?.message,
      'timed out after 30s waiting for lock "db-migrate" (held by bob@host2 (user bob) since 2026-11-26T06:30:00Z, ' +
        'expires 2026-11-26T07:00:00Z (in 29m))',
    );
    assert.equal(f.clock.now(), START_MONO + 30_000);
  });

  test('renewals keep it waiting; the holder dies and the expiry timer frees it', async () => {
    const f = fixture();
    f.store.script(
      expectCall.get(held()),
      expectCall.watch([{ afterMs: 20_000 }, { type: 'MODIFIED', lock: renewedAt(20_000, '51') }, 'hang']),
    );
    const got = await run(f, -1);
    f.store.verify();
    assert.equal(got.value?.status, 'Expired');
    assert.equal(f.clock.now(), START_MONO + 20_000 + 31_001);
  });
});

describe('waitForChange after a machine suspend', () => {
  test('the server’s clock is re-learnt and the lock re-read at once; its expiry is judged on the server’s time', async () => {
    const f = fixture();
    f.ctx.times = f.store.times();
    const seen = held({ renewMs: SERVER_START_MS - 10_000 }); // expires 20 s from now, on the server's clock
    f.store.script(expectCall.watch(['hang']), expectCall.get(seen));
    const statuses: number[] = [];
    f.ctx.progress = (status) => statuses.push(status.waitedMs);
    const waiting = wait(f, seen);
    await f.clock.advance(5_000);
    f.store.suspend(3_600_000); // the lid closed for an hour: the lease ran out meanwhile
    const got = await waiting;
    f.store.verify();
    assert.equal(got.value?.resourceVersion, '50', 'woken as expired');
    // Long before the 21 s the expiry timer would have taken (the fake clock may step to its next timer, the 1 s
    // status tick, while the re-read's promise chain settles).
    assert.ok(f.clock.now() - START_MONO <= 5_000 + 2_000, `woke ${f.clock.now() - START_MONO} ms in, not at 21 s`);
    assert.deepEqual(f.store.methods(), ['watch', 'get'], 'the watch was ended and the lock read again');
    assert.ok(
      statuses.every((ms) => ms >= 0),
      'no negative waits',
    );
  });

  test('a stall alone (the process did not run, the machine did) re-reads nothing: timers fire late but right', async () => {
    const f = fixture();
    f.ctx.times = f.store.times();
    const seen = held({ renewMs: SERVER_START_MS - 10_000 });
    f.store.script(expectCall.watch(['hang']));
    const got = await wait(f, seen);
    f.store.verify();
    assert.deepEqual(f.store.methods(), ['watch']);
    assert.equal(got.value?.resourceVersion, '50');
  });
});
