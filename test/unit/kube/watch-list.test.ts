// The wire side of `ls -w`: the list reports its own resourceVersion (the same for every page), and one watch
// covers the whole selection, in one namespace or all of them.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WatchEvent } from '../../../src/lock/store.ts';
import { configMap, FakeApiServer, nth, sendJson, sendStatus, sessionFor } from './fake-server.ts';
import { ForbiddenError } from '../../../src/kube/errors.ts';

async function collect(events: AsyncIterable<WatchEvent>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of events) {
    out.push(
      e.type === 'GONE'
        ? 'GONE'
        : e.type === 'BOOKMARK'
          ? `BOOKMARK ${e.resourceVersion}`
          : `${e.type} ${e.lock.namespace}/${e.lock.name}`,
    );
  }
  return out;
}

describe('list-watch', () => {
  let server: FakeApiServer;
  before(async () => {
    server = await FakeApiServer.start();
  });
  after(async () => {
    await server.close();
  });

  test("list: the first page's resourceVersion is the list's", async () => {
    server.requests.length = 0;
    server.handler = (req, res) => {
      const second = req.query.get('continue') === 'next';
      sendJson(res, 200, {
        kind: 'ConfigMapList',
        metadata: { resourceVersion: second ? '999' : '500', ...(second ? {} : { continue: 'next' }) },
        items: [configMap(second ? 'b' : 'a', { namespace: 'team' })],
      });
    };
    const { session } = sessionFor(server.url);
    const result = await session.store('team').list({});
    assert.deepEqual(
      result.value.map((l) => l.name),
      ['a', 'b'],
    );
    assert.equal(result.resourceVersion, '500');
  });

  test('watchList: one namespace, every ConfigMap of the user selector (Go locks carry no label), from the resourceVersion', async () => {
    server.requests.length = 0;
    server.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ADDED', object: configMap('a', { namespace: 'team' }) })}\n`);
      res.write(`${JSON.stringify({ type: 'DELETED', object: configMap('b', { namespace: 'team' }) })}\n`);
      res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })}\n`);
    };
    const { session } = sessionFor(server.url);
    const events = await collect(session.store('team').watchList({ labelSelector: 'team=db' }, '500'));
    assert.deepEqual(events, ['ADDED team/a', 'DELETED team/b', 'GONE']);
    const req = nth(server.requests);
    assert.equal(req.path, '/api/v1/namespaces/team/configmaps');
    assert.equal(req.query.get('watch'), '1');
    assert.equal(req.query.get('labelSelector'), 'team=db');
    assert.equal(req.query.get('fieldSelector'), null);
    assert.equal(req.query.get('resourceVersion'), '500');
    assert.equal(req.query.get('allowWatchBookmarks'), 'true');
  });

  test('watchList -A: the cluster-wide path; objects keep their own namespace', async () => {
    server.requests.length = 0;
    server.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'MODIFIED', object: configMap('a', { namespace: 'ns2' }) })}\n`);
    };
    const { session } = sessionFor(server.url);
    const events = await collect(session.store('').watchList({ allNamespaces: true }, '7'));
    assert.deepEqual(events, ['MODIFIED ns2/a']);
    const req = nth(server.requests);
    assert.equal(req.path, '/api/v1/configmaps');
    assert.equal(req.query.get('labelSelector'), null, 'no selector: every ConfigMap');
  });

  test('a refused watch is the 403 with the verb and scope', async () => {
    server.handler = (_req, res) =>
      sendStatus(res, 403, 'Forbidden', 'configmaps is forbidden: User "bob" cannot watch resource "configmaps"');
    const { session } = sessionFor(server.url);
    await assert.rejects(collect(session.store('team').watchList({}, '1')), (err: unknown) => {
      assert.ok(err instanceof ForbiddenError);
      assert.match(err.message, /watch/);
      assert.match(err.message, /"team"/);
      return true;
    });
  });
});
