import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServerClock } from '../../../src/lock/server-clock.ts';
import { FakeClock } from './fakes.ts';

const T0 = Date.UTC(2026, 10, 26, 6, 30, 0);

/** A sample as a server whose true time is trueAt(mono) would give for a request sent at `sent`, answered at `received`. */
function sample(trueAt: (mono: number) => number, sent: number, received: number, servedAt = (sent + received) / 2) {
  return { serverDateMs: Math.floor(trueAt(servedAt) / 1000) * 1000, sentAtMono: sent, receivedAtMono: received };
}

describe('ServerClock', () => {
  test('unknown until a sample: now() is -Infinity (nothing judged expired), stamp() refuses', () => {
    const clock = new FakeClock({ start: 0 });
    const server = new ServerClock(clock);
    assert.equal(server.known(), false);
    assert.equal(server.now(), -Infinity);
    assert.throws(() => server.stamp(), /did not report its time/);
    server.observe(undefined);
    assert.equal(server.known(), false);
  });

  test('one sample: now() = Date header + time since the response arrived (a lower bound)', async () => {
    const clock = new FakeClock({ start: 1000 });
    const server = new ServerClock(clock);
    server.observe({ serverDateMs: T0, sentAtMono: 900, receivedAtMono: 1000 });
    assert.equal(server.known(), true);
    assert.equal(server.now(), T0);
    await clock.advance(5000);
    assert.equal(server.now(), T0 + 5000);
    // upper bound T0 + 1000 - 900 (+ elapsed) - 1000 = T0 + 100 ahead of the lower bound: the stamp takes it.
    assert.equal(server.stamp(), T0 + 5000 + 100);
    assert.equal(server.monoAt(T0 + 10_000), 11_000);
  });

  test('samples narrow the offset; now() is never ahead of the server, stamp() never more than 1 s behind', () => {
    const clock = new FakeClock({ start: 0 });
    const server = new ServerClock(clock);
    const trueAt = (mono: number) => T0 + 437 + mono; // the server's clock, 437 ms past a whole second at mono 0
    let random = 12345;
    const next = () => (random = (random * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let mono = 0;
    for (let i = 0; i < 200; i++) {
      const sent = mono;
      const received = sent + 5 + next() * 300;
      server.observe(sample(trueAt, sent, received, sent + next() * (received - sent)));
      mono = received + next() * 2000;
      const now = server.now() - clock.now() + mono; // the estimate at `mono`
      assert.ok(now <= trueAt(mono), `ahead of the server by ${now - trueAt(mono)} ms`);
      const stamp = server.stamp() - clock.now() + mono;
      assert.ok(stamp >= trueAt(mono) - 1000, `stamp more than 1 s behind: ${trueAt(mono) - stamp} ms`);
    }
    // With many samples the bracket is much narrower than the Date header's second.
    assert.ok(trueAt(0) - server.now() < 100, `still ${trueAt(0) - server.now()} ms behind`);
  });

  test('a server clock stepped back by 10 minutes: start again from the new sample', () => {
    const clock = new FakeClock({ start: 0 });
    const server = new ServerClock(clock);
    server.observe({ serverDateMs: T0, sentAtMono: 0, receivedAtMono: 0 });
    server.observe({ serverDateMs: T0 - 600_000 + 1000, sentAtMono: 1000, receivedAtMono: 1000 });
    assert.equal(server.now(), T0 - 600_000);
  });

  test('nonsense samples are ignored', () => {
    const clock = new FakeClock({ start: 0 });
    const server = new ServerClock(clock);
    server.observe({ serverDateMs: Number.NaN, sentAtMono: 0, receivedAtMono: 0 });
    server.observe({ serverDateMs: T0, sentAtMono: 10, receivedAtMono: 5 });
    assert.equal(server.known(), false);
  });
});
