// The signals `run` handles itself, and where they come from: src/main.ts passes process.on / process.off, the
// unit tests a fake they fire by hand.

/** Forwarded to CMD's process group while it runs. */
export type ForwardedSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
export const forwardedSignals: readonly ForwardedSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Job control: stop CMD with cmlock (SIGTSTP, SIGTTIN, SIGTTOU), verify the lock before CMD goes on (SIGCONT). */
export type JobSignal = 'SIGTSTP' | 'SIGTTIN' | 'SIGTTOU' | 'SIGCONT';
export const jobSignals: readonly JobSignal[] = ['SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGCONT'];

export type RunSignal = ForwardedSignal | JobSignal;

/** While a signal has a handler here, it goes to the handlers alone (no default action, no abort). */
export interface SignalSource {
  on(signal: RunSignal, handler: () => void): void;
  off(signal: RunSignal, handler: () => void): void;
}
