// -l/--labels values into the labels a lock is written with, checked as Kubernetes checks them.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labels } from '../../../src/cli/validate.ts';
import { UsageError } from '../../../src/errors.ts';
import { MANAGED_BY_LABEL } from '../../../src/lock/names.ts';

describe('labels (-l/--labels)', () => {
  const valid: [string[], Record<string, string>][] = [
    [[], {}],
    [['k=v'], { k: 'v' }],
    [['k=v', 'a=b,c=d'], { k: 'v', a: 'b', c: 'd' }],
    [['team=', 'example.com/owner=ops_1.x'], { team: '', 'example.com/owner': 'ops_1.x' }],
    [['k=v', 'k=v'], { k: 'v' }],
    [[MANAGED_BY_LABEL], { 'app.kubernetes.io/managed-by': 'kubectl-cmlock' }],
    [['constructor=x'], { constructor: 'x' }],
  ];
  for (const [items, want] of valid) {
    test(`${JSON.stringify(items)} -> ${JSON.stringify(want)}`, () => {
      assert.deepEqual(labels(items), want);
    });
  }

  const invalid: [string[], string][] = [
    [['k'], 'invalid label "k": use key=value, e.g. team=payments'],
    [['a=b,'], 'invalid label "": use key=value, e.g. team=payments'],
    [['=v'], /^invalid label key "": /.source],
    [['-k=v'], /^invalid label key "-k": /.source],
    [['Example.com/k=v'], /^invalid label key "Example.com\/k": /.source],
    [[`${'k'.repeat(64)}=v`], /^invalid label key "k{64}": /.source],
    [['k=v v'], /^invalid value "v v" for label "k": /.source],
    [['k=-v'], /^invalid value "-v" for label "k": /.source],
    [[`k=${'v'.repeat(64)}`], /^invalid value "v{64}" for label "k": /.source],
    [['a=b=c'], /^invalid value "b=c" for label "a": /.source],
    [
      ['app.kubernetes.io/managed-by=helm'],
      'label "app.kubernetes.io/managed-by" is set by kubectl-cmlock and cannot be changed',
    ],
    [['k=v', 'k=w'], 'label "k" is given twice with different values'],
  ];
  for (const [items, message] of invalid) {
    test(`${JSON.stringify(items)} is a usage error`, () => {
      assert.throws(
        () => labels(items),
        (error: unknown) =>
          error instanceof UsageError &&
          (message.startsWith('^') ? new RegExp(message).test(error.message) : error.message === message),
      );
    });
  }
});
