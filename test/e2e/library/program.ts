// A program built on the kubectl-cmlock library, as its users write one. test/e2e/library.test.ts installs the
// packed package into a scratch project, typechecks this file there with the project's tsc, runs it with Node,
// and runs the same program stripped of its types as plain JavaScript (program.mjs).
//
//   node program.ts MODE NAME NAMESPACE CONNECT [ARGS...]
//   CONNECT: "kubeconfig" (a client-node KubeConfig, loadFromDefault) or "default" (the library resolves it)
//   contend COUNTER LOG ROUNDS   hold the lock ROUNDS times; in it, a read-modify-write of COUNTER and one line
//                                "START END FENCE HOLDER" (CLOCK_MONOTONIC ns) appended to LOG
//   hold-lost                    hold the lock with a 3 s lease until its signal fires; print "held FENCE", then
//                                "lost KIND NAME" and exit 6
//   abort-wait                   find the lock held (try once), then wait for it until SIGINT aborts the wait
//   slot LOG ROUNDS LIMIT        hold one of LIMIT slots (a semaphore) ROUNDS times, 300 ms each, appending
//                                "START END FENCE HOLDER" to LOG

import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { Lock, LockHeldError, LockLostError, type Lease, type LockOptions } from 'kubectl-cmlock';

const [mode, name = '', namespace, connect, ...args] = process.argv.slice(2);

function options(ttl: number, limit?: number): LockOptions {
  const base: LockOptions = limit === undefined ? { namespace, ttl } : { namespace, ttl, limit };
  if (connect !== 'kubeconfig') return base;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return { ...base, kubeConfig };
}

async function contend(counter: string, log: string, rounds: number): Promise<void> {
  const lock = new Lock(name, options(10_000));
  for (let round = 0; round < rounds; round++) {
    await lock.hold(async (signal: AbortSignal, lease: Lease) => {
      const start = process.hrtime.bigint();
      const n = Number(readFileSync(counter, 'utf8'));
      await sleep(5, undefined, { signal });
      writeFileSync(counter, `${n + 1}\n`);
      const end = process.hrtime.bigint();
      appendFileSync(log, `${start} ${end} ${lease.lock.fence} ${lease.lock.holder}\n`);
    });
  }
}

async function slot(log: string, rounds: number, limit: number): Promise<void> {
  const lock = new Lock(name, options(10_000, limit));
  for (let round = 0; round < rounds; round++) {
    await lock.hold(async (signal, lease) => {
      const start = process.hrtime.bigint();
      await sleep(300, undefined, { signal });
      appendFileSync(log, `${start} ${process.hrtime.bigint()} ${lease.lock.fence} ${lease.lock.holder}\n`);
    });
  }
}

async function holdUntilLost(): Promise<void> {
  const lock = new Lock(name, options(3000));
  try {
    await lock.hold(async (signal, lease) => {
      console.log(`held ${lease.lock.fence}`);
      await new Promise<never>((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      });
    });
    console.log('hold resolved');
  } catch (err) {
    if (!(err instanceof LockLostError)) throw err;
    console.log(`lost ${err.kind} ${err.lockName}`);
    process.exitCode = 6;
  }
}

async function abortWhileWaiting(): Promise<void> {
  const lock = new Lock(name, options(30_000));
  try {
    await lock.acquire({ timeout: 0 });
    console.log('acquired at once');
    return;
  } catch (err) {
    if (!(err instanceof LockHeldError)) throw err;
    console.log(`held by ${err.holder.holder}`);
  }
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));
  console.log('waiting');
  try {
    await lock.acquire({ signal: controller.signal });
    console.log('acquired');
  } catch (err) {
    console.log(`aborted: ${(err as Error).message}`);
    process.exitCode = 130;
  }
}

// The declarations are real types, not `any`: each line below must be refused by tsc.
if (mode === 'never') {
  // @ts-expect-error ttl is a number of milliseconds
  new Lock(name, { ttl: '30s' });
  // @ts-expect-error acquire resolves with the lock it took
  const fence: number = (await new Lock(name).acquire()).fence;
  // @ts-expect-error owner is 'auto', 'none' or { pod }
  new Lock(name, { owner: 'pod/web-0' });
  console.log(fence);
}

switch (mode) {
  case 'contend':
    await contend(args[0] ?? '', args[1] ?? '', Number(args[2]));
    break;
  case 'slot':
    await slot(args[0] ?? '', Number(args[1]), Number(args[2]));
    break;
  case 'hold-lost':
    await holdUntilLost();
    break;
  case 'abort-wait':
    await abortWhileWaiting();
    break;
  case 'never':
    break;
  default:
    throw new Error(`unknown mode ${String(mode)}`);
}
