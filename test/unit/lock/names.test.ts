import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../../src/errors.ts';
import { validateLockName } from '../../../src/lock/names.ts';

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
