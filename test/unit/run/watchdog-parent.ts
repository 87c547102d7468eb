// Stands in for cmlock in watchdog.test.ts: starts CMD through startChildProcess (and so its watchdog, under the
// shell given), tells the watchdog what the mode says, prints CMD's pid and the wall-clock ms when it had told
// it, then waits to be killed (or exits).
//   hold      nothing more: the test kills this process (cmlock's death)
//   disown    tells the watchdog to stand down and exits
//   arm:MS    arms the watchdog for MS and goes silent (as a stopped or stalled cmlock)
//   rearm:MS  arms it for MS, and again every MS/4 (as a healthy cmlock renewing)
//   held      stops CMD's group (SIGSTOP) and tells the watchdog it is held
//   kill:MS   tells the watchdog to SIGKILL the group after MS (as cmlock stopping CMD after a lost lock)
import { startChildProcess } from '../../../src/run/child.ts';

const [mode = '', killAfterMs = '', shell = '', file = '', ...args] = process.argv.slice(2);
const env: Record<string, string> = {};
for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
const child = await startChildProcess(file, args, env, { killAfterMs: Number(killAfterMs), watchdogShell: shell });
const [word = '', ms = '0'] = mode.split(':');
switch (word) {
  case 'disown':
    await child.disown();
    process.stdout.write(`${child.pid} ${Date.now()}\n`);
    process.exit(0);
    break;
  case 'arm':
    await child.guard.arm(Number(ms));
    break;
  case 'rearm':
    await child.guard.arm(Number(ms));
    setInterval(() => void child.guard.arm(Number(ms)), Number(ms) / 4);
    break;
  case 'held':
    child.signalGroup('SIGSTOP');
    await child.guard.hold();
    break;
  case 'kill':
    await child.guard.killAfter(Number(ms));
    break;
}
process.stdout.write(`${child.pid} ${Date.now()}\n`);
setInterval(() => {}, 1 << 30);
