// Who holds a lock from here (lock/holder.ts): the rules the command line and the library share. The commands'
// use of them (flags, warnings on stderr) is tested in test/unit/cli/commands.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../../src/errors.ts';
import {
  holderIdentity,
  loginName,
  OwnerPodNotFoundError,
  processIdentity,
  resolveOwner,
  thisPod,
  type HostFacts,
} from '../../../src/lock/holder.ts';

const facts = (env: Record<string, string> = {}): HostFacts => ({
  env,
  hostname: () => 'host1',
  username: () => 'alice',
});
const outside = { inCluster: false, podNamespace: undefined };

describe('holderIdentity', () => {
  const cases: [string, Parameters<typeof holderIdentity>[0], Record<string, string>, boolean, string][] = [
    ['given', { value: 'me', source: 'identity' }, { CMLOCK_IDENTITY: 'env' }, false, 'me'],
    ['$CMLOCK_IDENTITY', undefined, { CMLOCK_IDENTITY: 'env' }, false, 'env'],
    ['in a Pod', undefined, { POD_NAME: 'p', POD_NAMESPACE: 'ns' }, false, 'pod/ns/p'],
    ['in-cluster: the hostname', undefined, {}, true, 'pod/sa-ns/host1'],
    ['elsewhere', undefined, {}, false, 'alice@host1'],
  ];
  for (const [what, given, env, inCluster, want] of cases) {
    it(what, () => {
      const f = facts(env);
      const pod = thisPod(f, inCluster ? { inCluster, podNamespace: 'sa-ns' } : outside);
      assert.equal(holderIdentity(given, f, pod), want);
    });
  }

  it("names the caller's source in its refusal", () => {
    assert.throws(() => holderIdentity({ value: ' ', source: 'identity' }, facts(), undefined), {
      name: 'UsageError',
      message: 'identity must not be empty',
    });
    assert.throws(
      () => holderIdentity(undefined, facts({ CMLOCK_IDENTITY: 'a\u202eb' }), undefined),
      (err: unknown) => err instanceof UsageError && /^CMLOCK_IDENTITY must not contain control/.test(err.message),
    );
  });
});

it('processIdentity: base, tag, pid and a random suffix', () => {
  assert.equal(
    processIdentity('alice@host1', 'lib', 42, () => 0.5),
    'alice@host1/lib-42-8000',
  );
});

it('loginName: the user database, else $USER, $LOGNAME, the uid', () => {
  const none = (): string => {
    throw new Error('no passwd entry');
  };
  assert.equal(
    loginName(() => 'alice', { USER: 'u' }, 1000),
    'alice',
  );
  assert.equal(loginName(none, { USER: 'u', LOGNAME: 'l' }, 1000), 'u');
  assert.equal(loginName(none, { USER: '', LOGNAME: 'l' }, 1000), 'l');
  assert.equal(loginName(none, {}, 1000), 'uid-1000');
});

describe('resolveOwner', () => {
  const lookup = (uids: Record<string, string>, warnings: string[] = []) => ({
    namespace: 'ns',
    pod: thisPod(facts({ POD_NAME: 'p', POD_NAMESPACE: 'ns' }), outside),
    getPodUid: async (namespace: string, name: string) => uids[`${namespace}/${name}`],
    source: 'owner',
    warn: (line: string) => void warnings.push(line),
  });

  it('a named Pod: its real UID; a missing one is an error naming the option', async () => {
    assert.deepEqual(await resolveOwner({ kind: 'pod', name: 'web-0' }, lookup({ 'ns/web-0': 'u0' })), {
      apiVersion: 'v1',
      kind: 'Pod',
      name: 'web-0',
      uid: 'u0',
    });
    await assert.rejects(resolveOwner({ kind: 'pod', name: 'nope' }, lookup({})), (err: unknown) => {
      assert.ok(err instanceof OwnerPodNotFoundError);
      assert.deepEqual([err.pod, err.namespace], ['nope', 'ns']);
      assert.match(err.message, /: owner must name an existing Pod/);
      return true;
    });
  });

  it('automatic: this Pod, or a warning and no owner', async () => {
    assert.equal((await resolveOwner({ kind: 'auto' }, lookup({ 'ns/p': 'up' })))?.uid, 'up');
    const warnings: string[] = [];
    assert.equal(await resolveOwner({ kind: 'auto' }, lookup({}, warnings)), undefined);
    assert.deepEqual(warnings, ['pod "p" (from $POD_NAME) not found; the lock is not tied to a Pod']);
    assert.equal(await resolveOwner({ kind: 'none' }, lookup({ 'ns/p': 'up' })), undefined);
  });
});
