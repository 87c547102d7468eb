import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ForbiddenError } from '../../../src/kube/errors.ts';
import type { WatchEvent } from '../../../src/lock/store.ts';
import { RetryableError } from '../../../src/lock/store.ts';
import { configMap, FakeApiServer, sendStatus, sessionFor, nth } from './fake-server.ts';

function startStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
}

function sendEvent(res: ServerResponse, type: string, object: unknown): void {
  res.write(`${JSON.stringify({ type, object })}\n`);
}

async function collect(events: AsyncIterable<WatchEvent>): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

describe('watch', () => {
  let server: FakeApiServer;
  before(async () => {
    server = await FakeApiServer.start();
  });
  after(async () => {
    await server.close();
  });
  const reset = (handler: FakeApiServer['handler']): void => {
    server.requests.length = 0;
    server.handler = handler;
  };

  test('watches one object from a resourceVersion, with bookmarks and a randomised server timeout', async () => {
    reset((_req, res) => {
      startStream(res);
      sendEvent(res, 'MODIFIED', configMap('db', { rv: '101' }));
      // One event split across two chunks, then two in one chunk.
      const line = JSON.stringify({
        type: 'BOOKMARK',
        object: { kind: 'ConfigMap', metadata: { resourceVersion: '150' } },
      });
      res.write(line.slice(0, 20));
      setTimeout(() => {
        res.write(`${line.slice(20)}\n`);
        sendEvent(res, 'DELETED', configMap('db', { rv: '160' }));
        sendEvent(res, 'ADDED', configMap('db', { rv: '170' }));
        res.end();
      }, 20);
    });
    const { session } = sessionFor(server.url, { token: 'tok', tuning: { watchTimeoutSeconds: undefined } });
    const events = await collect(session.store('ns').watch('db', '100'));
    assert.deepEqual(
      events.map((e) =>
        e.type === 'BOOKMARK'
          ? `BOOKMARK ${e.resourceVersion}`
          : e.type === 'GONE'
            ? 'GONE'
            : `${e.type} ${e.lock.resourceVersion}`,
      ),
      ['MODIFIED 101', 'BOOKMARK 150', 'DELETED 160', 'ADDED 170'],
    );
    const req = nth(server.requests);
    assert.equal(req.method, 'GET');
    assert.equal(req.path, '/api/v1/namespaces/ns/configmaps');
    assert.equal(req.query.get('watch'), '1');
    assert.equal(req.query.get('fieldSelector'), 'metadata.name=db');
    assert.equal(req.query.get('resourceVersion'), '100');
    assert.equal(req.query.get('allowWatchBookmarks'), 'true');
    assert.equal(req.headers.authorization, 'Bearer tok');
    const timeout = Number(req.query.get('timeoutSeconds'));
    assert.ok(timeout >= 60 && timeout <= 120, `timeoutSeconds=${timeout}`);
  });

  test('the timeout differs between waiters (no lockstep reconnects)', async () => {
    reset((_req, res) => {
      startStream(res);
      res.end();
    });
    const { session } = sessionFor(server.url, { tuning: { watchTimeoutSeconds: undefined } });
    for (let i = 0; i < 8; i++) await collect(session.store().watch('db', '1'));
    const timeouts = new Set(server.requests.map((r) => r.query.get('timeoutSeconds')));
    assert.ok(timeouts.size > 1, `all 8 watches asked for ${[...timeouts].join()}`);
  });

  test('an ERROR event with code 410 is GONE and ends the watch', async () => {
    reset((_req, res) => {
      startStream(res);
      sendEvent(res, 'ERROR', {
        kind: 'Status',
        code: 410,
        reason: 'Expired',
        message: 'too old resource version: 1 (200)',
      });
      // Anything after it is not read.
      sendEvent(res, 'ADDED', configMap('db'));
    });
    const { session } = sessionFor(server.url);
    assert.deepEqual(await collect(session.store().watch('db', '1')), [{ type: 'GONE' }]);
  });

  test('an HTTP 410 answer is GONE too', async () => {
    reset((_req, res) => sendStatus(res, 410, 'Expired', 'too old resource version'));
    const { session } = sessionFor(server.url);
    assert.deepEqual(await collect(session.store().watch('db', '1')), [{ type: 'GONE' }]);
  });

  test('an ERROR event with another code throws the mapped error', async () => {
    reset((_req, res) => {
      startStream(res);
      sendEvent(res, 'ERROR', { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd hiccup' });
    });
    const { session } = sessionFor(server.url);
    await assert.rejects(collect(session.store().watch('db', '1')), RetryableError);
  });

  test('a refused watch says who may not watch what', async () => {
    reset((_req, res) =>
      sendStatus(
        res,
        403,
        'Forbidden',
        'configmaps is forbidden: User "bob" cannot watch resource "configmaps" in API group "" in the namespace "default"',
      ),
    );
    const { session } = sessionFor(server.url);
    await assert.rejects(collect(session.store().watch('db', '1')), (err: unknown) => {
      assert.ok(err instanceof ForbiddenError);
      assert.equal(
        err.message,
        'forbidden: user "bob" cannot watch configmaps in namespace "default" (context "test"); ' +
          'check with: kubectl auth can-i watch configmaps -n default --context test',
      );
      return true;
    });
  });

  test('a silent stream (black hole) ends the iterator so the caller re-reads', async () => {
    reset((_req, res) => {
      startStream(res);
      sendEvent(res, 'MODIFIED', configMap('db', { rv: '5' }));
      // ...and then nothing, forever, with the connection open.
    });
    const { session, logs } = sessionFor(server.url, {
      tuning: { watchTimeoutSeconds: () => 1, watchSilenceMs: () => 200 },
    });
    const started = performance.now();
    const events = await collect(session.store().watch('db', '1'));
    const elapsed = performance.now() - started;
    assert.equal(events.length, 1);
    assert.ok(elapsed >= 190 && elapsed < 2000, `ended after ${elapsed}ms`);
    assert.ok(logs.some((l) => /presumed dead/.test(l)));
  });

  test('silence is measured from the last byte: a slow but live stream is not cut', async () => {
    reset((_req, res) => {
      startStream(res);
      let n = 0;
      const tick = setInterval(() => {
        sendEvent(res, 'BOOKMARK', { metadata: { resourceVersion: String(++n) } });
        if (n === 5) {
          clearInterval(tick);
          res.end();
        }
      }, 80);
    });
    const { session } = sessionFor(server.url, { tuning: { watchSilenceMs: () => 200 } });
    const events = await collect(session.store().watch('db', '1'));
    assert.equal(events.length, 5);
  });

  test('a slow consumer is not mistaken for a silent server', async () => {
    reset((_req, res) => {
      startStream(res);
      sendEvent(res, 'MODIFIED', configMap('db', { rv: '5' }));
      sendEvent(res, 'MODIFIED', configMap('db', { rv: '6' }));
      setTimeout(() => res.end(), 50);
    });
    const { session } = sessionFor(server.url, { tuning: { watchSilenceMs: () => 100 } });
    const seen: string[] = [];
    for await (const e of session.store().watch('db', '1')) {
      if (e.type === 'MODIFIED') seen.push(e.lock.resourceVersion);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(seen, ['5', '6']);
  });

  test('abort: rejects promptly with the signal reason, while connecting or streaming', async () => {
    reset((_req, res) => {
      startStream(res);
    });
    const { session } = sessionFor(server.url);
    const controller = new AbortController();
    const reason = new Error('ctrl-c');
    setTimeout(() => controller.abort(reason), 100);
    const started = performance.now();
    await assert.rejects(collect(session.store().watch('db', '1', controller.signal)), (e) => e === reason);
    assert.ok(performance.now() - started < 1000);

    reset(() => undefined); // never answers at all
    const c2 = new AbortController();
    setTimeout(() => c2.abort(reason), 100);
    await assert.rejects(collect(session.store().watch('db', '1', c2.signal)), (e) => e === reason);
  });

  test('a connection cut mid-stream throws (the caller backs off and re-watches)', async () => {
    reset((_req, res) => {
      startStream(res);
      sendEvent(res, 'MODIFIED', configMap('db'));
      setTimeout(() => res.destroy(), 30);
    });
    const { session } = sessionFor(server.url);
    const seen: WatchEvent[] = [];
    await assert.rejects(
      (async () => {
        for await (const e of session.store().watch('db', '1')) seen.push(e);
      })(),
      RetryableError,
    );
    assert.equal(seen.length, 1);
  });

  test('breaking out of the loop closes the connection', async () => {
    let closed = false;
    reset((_req, res) => {
      startStream(res);
      res.on('close', () => (closed = true));
      sendEvent(res, 'MODIFIED', configMap('db'));
    });
    const { session } = sessionFor(server.url);
    for await (const e of session.store().watch('db', '1')) {
      assert.equal(e.type, 'MODIFIED');
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(closed);
  });

  test('no response headers within the request timeout: RetryableError', async () => {
    reset(() => undefined);
    const { session } = sessionFor(server.url, { requestTimeoutMs: 150 });
    await assert.rejects(collect(session.store().watch('db', '1')), /did not answer within 150ms/);
  });
});
