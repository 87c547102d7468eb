// The waiting status line on stderr. The protocol reports progress about once a second; on a terminal the line
// is redrawn in place, otherwise (logs, CI) a plain line is written when the holder changes and every 30 s.

import type { WaitStatus } from '../lock/types.ts';
import { waitStatusLine } from '../output/messages.ts';
import type { Runtime } from './runtime.ts';

const CLEAR_LINE = '\r\u001b[2K';
const PLAIN_EVERY_MS = 30_000;

export interface StatusReporter {
  /** The protocol's progress callback. */
  update(status: WaitStatus): void;
  /** Clears the line (on a terminal); call it before anything else is printed. Later updates are ignored. */
  stop(): void;
}

export function statusReporter(rt: Runtime, serverNow: () => number): StatusReporter {
  let stopped = false;
  let drawn = false;
  let lastPlain: { holder: string; at: number } | undefined;
  return {
    update(status) {
      if (stopped) return;
      const line = waitStatusLine(status, serverNow(), status.waitedMs);
      if (rt.stderr.isTTY) {
        // A terminal that reports no size (0 columns: some ptys, `script`) gets 80.
        const width = rt.stderr.columns || 80;
        rt.stderr.write(`${CLEAR_LINE}${line.slice(0, Math.max(width - 1, 20))}`);
        drawn = true;
        return;
      }
      const now = rt.clock.now();
      if (lastPlain === undefined || lastPlain.holder !== status.holder || now - lastPlain.at >= PLAIN_EVERY_MS) {
        rt.stderr.write(`${line}\n`);
        lastPlain = { holder: status.holder, at: now };
      }
    },
    stop() {
      stopped = true;
      if (drawn) rt.stderr.write(CLEAR_LINE);
      drawn = false;
    },
  };
}
