// Stands in for cmlock in watchdog.test.ts: starts CMD through startChildProcess (and so its watchdog), prints
// CMD's pid, then either waits to be killed ("hold") or tells the watchdog to stand down and exits ("disown").
import { startChildProcess } from '../../../src/run/child.ts';

const [mode = '', killAfterMs = '', file = '', ...args] = process.argv.slice(2);
const env: Record<string, string> = {};
for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
const child = await startChildProcess(file, args, env, { killAfterMs: Number(killAfterMs) });
process.stdout.write(`${child.pid}\n`);
if (mode === 'disown') {
  await child.disown();
  process.exit(0);
}
setInterval(() => {}, 1 << 30);
