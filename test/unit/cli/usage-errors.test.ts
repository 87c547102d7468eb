// Usage errors: one line, exit code 2, found before anything is sent to the cluster.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs, usageHint } from '../../../src/cli/app.ts';
import { ExitCode, UsageError } from '../../../src/errors.ts';

const cases: [argv: string[], message: RegExp][] = [
  // commands
  [[], /^no command given; use one of: acquire, release, renew, ls, describe, wait, run, version, completion$/],
  [['nope'], /^unknown command "nope" for "kubectl cmlock"$/],
  [['acqire', 'x'], /^unknown command "acqire" for "kubectl cmlock"; did you mean "acquire"\?$/],
  [['-n', 'ns'], /^no command given/],
  // flags
  [['acquire', 'x', '--bogus'], /^unknown flag: --bogus$/],
  [['acquire', 'x', '--bogus=1'], /^unknown flag: --bogus$/],
  [['acquire', 'x', '-Q'], /^unknown shorthand flag: 'Q' in -Q$/],
  [['ls', '-Ax'], /^unknown shorthand flag: 'x' in -Ax$/],
  [['acquire', 'x', '--force'], /^unknown flag: --force$/],
  [['release', 'x', '--timeout', '5s', '--ignore-not-found'], /^unknown flag: --timeout$/],
  [['wait', 'x', '--ignore-not-found'], /^unknown flag: --ignore-not-found$/],
  [['ls', '--watch=maybe'], /^invalid argument "maybe" for "--watch" flag: must be true or false$/],
  [['acquire', 'x', '--ttl'], /^flag needs an argument: --ttl$/],
  [['acquire', 'x', '-n'], /^flag needs an argument: -n$/],
  [['acquire', 'x', '-n', '--ttl', '1m'], /^flag needs an argument: -n$/],
  [['ls', '-v'], /^flag needs an argument: -v$/],
  [['ls', '-v', 'x'], /^invalid argument "x" for "-v, --v" flag: must be a log level/],
  [['ls', '-n', 'Bad_NS'], /^invalid namespace "Bad_NS"/],
  [['ls', '--request-timeout', '-1s'], /^invalid argument "-1s" for "--request-timeout" flag: must not be negative$/],
  [['ls', '--request-timeout', 'soon'], /^invalid argument "soon" for "--request-timeout" flag: use Go syntax/],
  // names
  [['acquire'], /^a lock NAME is required: kubectl cmlock acquire NAME$/],
  [['release', '--force'], /^a lock NAME is required: kubectl cmlock release NAME$/],
  [['acquire', 'Foo_Bar'], /^invalid lock name "Foo_Bar": must be a DNS-1123 subdomain/],
  [['describe', 'a'.repeat(254)], /^invalid lock name/],
  [['acquire', 'x', 'y'], /^acquire takes one lock NAME, got 2: x y$/],
  [['acquire', 'x', '--', 'y'], /^unexpected arguments after "--": y$/],
  [['ls', 'x'], /^ls takes no arguments, got: x/],
  // durations
  [['acquire', 'x', '--ttl', '30'], /^invalid argument "30" for "--ttl" flag: use Go syntax like 30s, 5m, 1h30m$/],
  [['acquire', 'x', '--ttl', '5minutes'], /^invalid argument "5minutes" for "--ttl" flag: use Go syntax/],
  [['acquire', 'x', '--ttl', '-5m'], /^invalid argument "-5m" for "--ttl" flag: must not be negative$/],
  [['acquire', 'x', '--ttl', '500ms'], /^invalid argument "500ms" for "--ttl" flag: must be 0 or at least 1s$/],
  [['acquire', 'x', '--timeout', 'forever'], /^invalid argument "forever" for "--timeout" flag/],
  [['renew', 'x', '--ttl', '1 h'], /^invalid argument "1 h" for "--ttl" flag/],
  [['wait', 'x', '--timeout', '10'], /^invalid argument "10" for "--timeout" flag/],
  [
    ['run', 'x', '--kill-after', '-1s', '--', 'true'],
    /^invalid argument "-1s" for "--kill-after" flag: must not be negative$/,
  ],
  [
    ['run', 'x', '--ttl', '10s', '--kill-after', '10s', '--', 'true'],
    /^--ttl must be greater than the renew deadline plus --kill-after, so that CMD is stopped before the lock can expire$/,
  ],
  [['run', 'x', '--ttl', '6s', '--kill-after', '4s', '--', 'true'], /^--ttl must be greater than the renew deadline/],
  // the command run runs: checked before anything is sent (the supervisor, src/run, takes it as given)
  [['run', 'x'], /^a command is required after "--": kubectl cmlock run NAME -- CMD \[ARGS\.\.\.\]$/],
  [['run', 'x', '--'], /^a command is required after "--": kubectl cmlock run NAME -- CMD \[ARGS\.\.\.\]$/],
  [['run', 'x', '--', ''], /^run needs a command: kubectl cmlock run NAME -- CMD \[ARGS\.\.\.\]$/],
  [['run', 'x', '--', 'echo', 'a\0b'], /^the command and its arguments must not contain NUL characters$/],
  // labels
  [['acquire', 'x', '-l', 'a=b=c'], /^invalid value "b=c" for label "a"/],
  [['acquire', 'x', '-l', 'novalue'], /^invalid label "novalue": use key=value/],
  [['acquire', 'x', '-l', 'app.kubernetes.io/managed-by=me'], /is set by kubectl-cmlock and cannot be changed$/],
  [['run', 'x', '-l', 'a=b=c', '--', 'true'], /^invalid value "b=c" for label "a"/],
  // output formats
  [
    ['acquire', 'x', '-o', 'wide'],
    /^unable to match a printer suitable for the output format "wide", allowed formats are: json,yaml,name$/,
  ],
  [['ls', '-o', 'xml'], /allowed formats are: wide,json,yaml,name$/],
  [['describe', 'x', '-o', 'wide'], /allowed formats are: json,yaml,name$/],
  [['version', '-o', 'name'], /allowed formats are: json,yaml$/],
  // owner and identity
  [
    ['acquire', 'x', '--owner', 'deployment/web'],
    /^invalid argument "deployment\/web" for "--owner" flag: must be pod\/NAME or none$/,
  ],
  [['acquire', 'x', '--owner', 'pod/Bad_Name'], /^invalid pod name "Bad_Name"/],
  [
    ['acquire', 'x', '-n', 'team-a', '--owner', 'pod/team-b/worker'],
    /^owner references cannot cross namespaces: the lock is in namespace "team-a", pod "worker" in "team-b"/,
  ],
  [['run', 'x', '-n', 'a', '--owner', 'pod/b/w', '--', 'true'], /^owner references cannot cross namespaces/],
  [['acquire', 'x', '--identity', ' '], /^--identity must not be empty$/],
  [['release', 'x', '--identity', 'me\nyou'], /^--identity must not contain control characters/],
  // run
  [['run', 'x'], /^a command is required after "--": kubectl cmlock run NAME -- CMD \[ARGS...\]$/],
  [['run', 'x', '--'], /^a command is required after "--"/],
  [['run', 'x', 'make', 'deploy'], /^put the command after "--": kubectl cmlock run x -- make deploy$/],
  [['run', '--', 'make'], /^a lock NAME is required: kubectl cmlock run NAME -- CMD/],
  // ls, completion, version
  [['ls', 'db', '-w'], /^ls takes no arguments, got: db \(use -l to select locks by label\)$/],
  [['completion'], /^a shell is required: kubectl cmlock completion bash\|zsh\|fish$/],
  [['completion', 'tcsh'], /^unsupported shell "tcsh": use bash, zsh or fish$/],
  [['version', 'extra'], /^version takes no arguments/],
];

describe('usage errors (exit code 2)', () => {
  for (const [argv, message] of cases) {
    it(argv.join(' ') || '(no arguments)', async () => {
      await assert.rejects(parseArgs(argv), (err: unknown) => {
        assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
        assert.equal(err.exitCode, ExitCode.usage);
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
    });
  }
});

describe('usageHint', () => {
  it("points to the command's help when the command is known", () => {
    assert.equal(usageHint(['acquire', 'x', '--bogus']), "see 'kubectl cmlock acquire --help'");
    assert.equal(usageHint(['-n', 'ns', 'list', '-Q']), "see 'kubectl cmlock ls --help'");
    assert.equal(usageHint(['nope']), "see 'kubectl cmlock --help'");
  });
});
