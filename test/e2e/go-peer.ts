// The Go-library test peer (test/go-peer) from the end-to-end tests: a Go program that takes and releases locks
// the way the Go lock library does, crash on a lock without an ownerReference included. Like the library it runs
// "in a Pod": each peer gets a real Pod of the test cluster (never scheduled: there are no nodes) whose name and
// namespace it reads from POD_NAME / POD_NAMESPACE, and which owns the locks it creates.
//
// Its exit codes: 0 ok, 1 error (Release's "Owner references on found lock is malformed" too), 3 Acquire timed
// out, 2 a Go panic.

import assert from 'node:assert/strict';
import { ensureGoPeer } from '../../scripts/cluster-lib.ts';
import { collect, eventually, runSealed, startSealed, type RunOptions, type RunResult } from './harness.ts';
import { createPod, show } from './lock-helpers.ts';

/** scripts/e2e.ts builds the peer before the tests and passes it on; a test run by hand builds it here. */
const binary = process.env.CMLOCK_GO_PEER || (await ensureGoPeer());

/** A Pod for one peer: the owner of its locks, and the identity its Release insists on. */
export interface PeerPod {
  ns: string;
  pod: string;
  uid: string;
}

export async function peerPod(ns: string, name: string): Promise<PeerPod> {
  return { ns, pod: name, uid: await createPod(ns, name) };
}

function peerOptions(p: PeerPod, opts: RunOptions): RunOptions {
  return { timeoutMs: 120_000, ...opts, env: { POD_NAME: p.pod, POD_NAMESPACE: p.ns, ...opts.env } };
}

/** `go-peer ARGS` as the Pod `p`, to its end. */
export function goPeer(p: PeerPod, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runSealed(binary, args, peerOptions(p, opts));
}

/** `go-peer ARGS`, which must exit 0. */
export async function goPeerOk(p: PeerPod, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await goPeer(p, args, opts);
  assert.equal(r.code, 0, `go-peer ${args.join(' ')} as pod/${p.pod}: ${show(r)}`);
  return r;
}

/** A peer left running (`hold`: it releases when its stdin closes), with its output so far. */
export interface RunningPeer {
  done: Promise<RunResult>;
  stdout(): string;
  stderr(): string;
  exited(): boolean;
  /** Closes stdin: a holding peer releases its lock and exits. */
  finish(): void;
  /** SIGKILL. */
  kill(): void;
}

export function startGoPeer(p: PeerPod, args: string[], opts: RunOptions = {}): RunningPeer {
  const options = peerOptions(p, opts);
  const child = startSealed(binary, args, options);
  // A holding peer keeps its stdin open until finish().
  const done = collect(child, options.timeoutMs, null);
  let out = '';
  let err = '';
  let exited = false;
  child.stdout?.on('data', (d: string) => (out += d));
  child.stderr?.on('data', (d: string) => (err += d));
  child.on('exit', () => (exited = true));
  return {
    done,
    stdout: () => out,
    stderr: () => err,
    exited: () => exited,
    finish: () => void child.stdin?.end(),
    kill: () => void child.kill('SIGKILL'),
  };
}

/** Resolves once a started peer printed that it took the lock; fails when it exits first. */
export async function peerHolds(peer: RunningPeer, timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => {
      if (peer.stdout().startsWith('acquired lock')) return true;
      if (peer.exited()) throw new Error(`go-peer exited before it held the lock: ${show(await peer.done)}`);
      return false;
    },
    timeoutMs,
    'the Go peer holds the lock',
  );
}

/** What the library prints when it crashes on a lock without owners: Go's panic for ownerReferences[0]. */
export const PANIC = /panic: runtime error: index out of range/;

/** Asserts the peer did not crash (a Go panic exits 2 and prints the panic). */
export function assertNoPanic(r: RunResult, what: string): void {
  assert.doesNotMatch(r.stderr, PANIC, `${what}: the Go library crashed:\n${show(r)}`);
  assert.notEqual(r.code, 2, `${what}: ${show(r)}`);
}
