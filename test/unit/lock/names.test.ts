import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../../src/errors.ts';
import { MANAGED_BY_LABEL, parseLabels, validateLockName } from '../../../src/lock/names.ts';

const RULE =
  "must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, " +
  'at most 253 characters)';

describe('validateLockName', () => {
  const valid = [
    'db-migrate',
    'a',
    '0',
    'node-drain.eu-west-1',
    'a.b.c',
    'x'.repeat(253),
    `${'a'.repeat(63)}.${'b'.repeat(100)}`,
  ];
  for (const name of valid) {
    test(`accepts ${JSON.stringify(name.length > 40 ? `${name.slice(0, 20)}…(${name.length})` : name)}`, () => {
      validateLockName(name);
    });
  }

  const invalid = [
    '',
    'Foo',
    'db_migrate',
    '-db',
    'db-',
    'db..migrate',
    '.db',
    'db.',
    'db migrate',
    'x'.repeat(254),
    'dB',
    'é',
  ];
  for (const name of invalid) {
    test(`rejects ${JSON.stringify(name.length > 40 ? `${name.slice(0, 20)}…(${name.length})` : name)}`, () => {
      assert.throws(
        () => validateLockName(name),
        (error: unknown) =>
          error instanceof UsageError &&
          error.exitCode === 2 &&
          error.message === `invalid lock name "${name}": ${RULE}`,
      );
    });
  }

  test('the exact message', () => {
    assert.throws(() => validateLockName('Foo'), {
      message: `invalid lock name "Foo": ${RULE}`,
    });
  });

  test('control characters in a bad name are escaped in the message', () => {
    assert.throws(() => validateLockName('a\nb'), { message: `invalid lock name "a\\nb": ${RULE}` });
  });
});

describe('parseLabels', () => {
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
      assert.deepEqual(parseLabels(items), want);
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
        () => parseLabels(items),
        (error: unknown) =>
          error instanceof UsageError &&
          (message.startsWith('^') ? new RegExp(message).test(error.message) : error.message === message),
      );
    });
  }
});
