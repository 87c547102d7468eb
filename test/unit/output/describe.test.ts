import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderDescribe } from '../../../src/output/describe.ts';
import { hasUnsafe } from '../../../src/output/escape.ts';
import { described, HOSTILE_CLEAR, HOSTILE_ROW, NOW } from './fixtures.ts';

describe('describe', () => {
  it('kubectl-describe-like block, then Events: <none>', () => {
    assert.equal(
      renderDescribe(described({ labels: { 'app.kubernetes.io/managed-by': 'kubectl-cmlock', team: 'db' } }), NOW),
      [
        'Name:            db-migrate',
        'Namespace:       default',
        'Holder:          alice@laptop',
        'User:            alice',
        'Host:            laptop',
        'Status:          Held',
        'Reason:          schema v42',
        'Acquired:        2026-11-26T06:30:00Z (5m ago)',
        'Renewed:         2026-11-26T06:30:00Z (5m ago)',
        'Lease Duration:  30m',
        'Expires:         2026-11-26T07:00:00Z (in 25m)',
        'Fence:           1234',
        'Owner:           <none>',
        'Labels:          app.kubernetes.io/managed-by=kubectl-cmlock',
        '                 team=db',
        'Events:          <none>',
        '',
      ].join('\n'),
    );
  });

  it('Events as kubectl prints them', () => {
    const text = renderDescribe(
      described({
        events: [
          {
            type: 'Normal',
            reason: 'Acquired',
            message: 'alice@laptop acquired the lock',
            time: '2026-11-26T06:30:00Z',
            count: 1,
          },
          { type: 'Warning', reason: 'ForceReleased', message: 'bob broke it', time: '2026-11-26T06:34:15Z', count: 2 },
          { type: 'Normal', reason: 'Released', message: 'no time', count: 1 },
        ],
      }),
      NOW,
    );
    assert.ok(
      text.endsWith(
        [
          'Events:',
          '  Type     Reason         Age        Message',
          '  ----     ------         ----       -------',
          '  Normal   Acquired       5m         alice@laptop acquired the lock',
          '  Warning  ForceReleased  45s (x2)   bob broke it',
          '  Normal   Released       <unknown>  no time',
          '',
        ].join('\n'),
      ),
      text,
    );
  });

  it('a lock that never expires, owned by a Pod, written by the Go library', () => {
    const text = renderDescribe(
      described({
        holder: 'pod/worker-7',
        user: '',
        host: '',
        acquireTime: '',
        renewTime: '',
        expiresAt: '',
        leaseDurationSeconds: 0,
        reason: '',
        owner: 'pod/worker-7',
        labels: {},
        foreign: true,
      }),
      NOW,
    );
    assert.match(text, /^User: {12}<none>$/m);
    assert.match(text, /^Acquired: {8}<unknown>$/m);
    assert.match(text, /^Lease Duration: {2}0 \(never expires\)$/m);
    assert.match(text, /^Expires: {9}never$/m);
    assert.match(text, /^Owner: {11}pod\/worker-7$/m);
    assert.match(text, /^Labels: {10}<none>$/m);
    assert.match(text, /^Written By: {6}the Go lock library \(no cmlock record\)$/m);
  });

  it('escapes every cluster string: holder, reason, host, labels, event messages', () => {
    const text = renderDescribe(
      described({
        holder: HOSTILE_ROW,
        reason: HOSTILE_CLEAR,
        host: 'h\u202e',
        labels: { note: 'a\u0007' },
        events: [{ type: 'Normal', reason: 'Acquired', message: 'x\nEvents:  <none>', count: 1 }],
      }),
      NOW,
    );
    assert.ok(
      text.split('\n').every((line) => !hasUnsafe(line)),
      'no raw control character on any line',
    );
    assert.match(text, /^Holder: {10}evil\\nNAME HOLDER$/m);
    assert.match(text, /^Reason: {10}\\x1b\[2J$/m);
    assert.match(text, /^Host: {12}h\\u202e$/m);
    assert.match(text, /^Labels: {10}note=a\\x07$/m);
    assert.match(text, /x\\nEvents: {2}<none>$/m);
    assert.equal(text.match(/^Events:/gm)?.length, 1);
  });
});
