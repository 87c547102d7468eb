// A real pseudo-terminal for end-to-end tests of terminal behaviour (Ctrl-Z, fg, status lines): util-linux's
// `script` allocates the pty and runs an interactive bash in it, with job control, as a user's terminal does.
// What the test writes goes to the pty master (so 0x1a is a real Ctrl-Z that the line discipline turns into
// SIGTSTP for the foreground job); what bash and its jobs print comes back.

import { spawn } from 'node:child_process';
import { sealedEnv, type RunOptions } from './harness.ts';

export interface Terminal {
  /** Types `text` (use '\x1a' for Ctrl-Z, '\x03' for Ctrl-C). */
  type(text: string): void;
  /** Everything the terminal showed so far, with CR LF as LF. */
  screen(): string;
  /** Resolves once the screen, after `from` characters, matches `pattern`; returns the match. */
  waitFor(pattern: RegExp, timeoutMs?: number, from?: number): Promise<RegExpMatchArray>;
  close(): void;
}

export function startTerminal(opts: RunOptions = {}): Terminal {
  const env = { ...sealedEnv(opts), TERM: 'dumb', PS1: '$ ' };
  const child = spawn('script', ['-qfec', 'bash --norc --noprofile -i', '/dev/null'], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d.replaceAll('\r\n', '\n')));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (screen += d.replaceAll('\r\n', '\n')));
  return {
    type: (text) => void child.stdin.write(text),
    screen: () => screen,
    async waitFor(pattern, timeoutMs = 30_000, from = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = screen.slice(from).match(pattern);
        if (match !== null) return match;
        if (child.exitCode !== null) throw new Error(`the terminal exited; it showed:\n${screen}`);
        if (Date.now() > deadline) {
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; the terminal showed:\n${screen}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: () => {
      child.stdin.end();
      child.kill('SIGKILL');
    },
  };
}
