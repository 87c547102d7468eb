// One request at a time, done properly: credentials from client-node (exec plugins included) on the wire of
// transport.ts, a per-request timeout combined with the caller's signal, the server's Date header with the local
// monotonic send/receive times, a -v log line (method, path, status, duration; nothing else), errors mapped by
// errors.ts, and the one retry loop of cmlock: what errors.ts calls retryable (reads: 429, 5xx, timeouts, resets;
// writes: only 429 and never-sent failures, because errors.ts turns a write that may have been applied into
// AmbiguousWriteError) is sent again after Retry-After or the shared backoff, never past the caller's deadline.
// The lock protocol above sends each request once and only resolves ambiguous writes by reading back.

import type { IncomingMessage } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { LinkedAbort } from '../lock/abort.ts';
import { Backoff, type BackoffPolicy } from '../lock/backoff.ts';
import { systemClock } from '../lock/clock.ts';
import { formatDuration } from '../lock/duration.ts';
import { RetryableError, type ServerTimeSample } from '../lock/store.ts';
import { AuthenticationApi, CoreApi, type Answer, type ApiRequest, type Attempt } from './api.ts';
import {
  CredentialError,
  mapRequestError,
  contextText,
  type ErrorContext,
  type FailureState,
  type RequestSpec,
} from './errors.ts';
import type { ResolvedConfig } from './kubeconfig.ts';
import { oneLine, Redactor } from './redact.ts';
import { headersOf, readText, Transport, type Prepared } from './transport.ts';

const USER_AGENT = 'kubectl-cmlock';
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Knobs that tests turn; production uses `defaultTuning`. */
export interface Tuning {
  serviceAccountDir?: string;
  /**
   * maxAttempts per call, with the shared backoff between them. A call without a deadline waits for a
   * Retry-After of at most maxWaitMs; a longer one is handed to the caller (RetryableError.retryAfterMs).
   */
  retry: BackoffPolicy & { maxAttempts: number; maxWaitMs?: number };
  /** The injected clock's sleep and randomness (lock/clock.ts in production). */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
  /** Local monotonic ms, the domain of CallOptions.deadline (performance.now() in production). */
  now: () => number;
  /** Server-side watch timeout, randomised so that waiters do not reconnect in lockstep. */
  watchTimeoutSeconds: () => number;
  /** How long a watch may stay silent before it is presumed dead (the server should have closed it by then). */
  watchSilenceMs: (timeoutSeconds: number) => number;
}

export const defaultTuning: Tuning = {
  retry: { maxAttempts: 5, initialMs: 250, maxMs: 5_000, maxWaitMs: 60_000 },
  sleep: systemClock.sleep,
  random: systemClock.random,
  now: systemClock.now,
  watchTimeoutSeconds: () => 60 + Math.floor(Math.random() * 61),
  watchSilenceMs: (timeoutSeconds) => (timeoutSeconds + 15) * 1000,
};

export interface ClientOptions {
  requestTimeoutMs: number;
  verbosity: number;
  log: (line: string) => void;
  /** Told the time sample of every response (ConnectOptions.serverTime). */
  serverTime?: (sample: ServerTimeSample) => void;
}

export interface Timed<T> {
  value: T;
  time?: ServerTimeSample;
}

export interface CallOptions {
  /** Resolve 404 as `undefined` (with the response's time) instead of throwing. */
  notFoundOk?: boolean;
  /** Override the retry budget (1 = no retry). */
  maxAttempts?: number;
  /** A shorter per-request timeout than the session's (best-effort calls). */
  timeoutMs?: number;
  /** Local monotonic ms (Tuning.now) past which no retry may wait: the error is thrown instead. */
  deadline?: number;
}

export interface OpenedStream {
  status: number;
  headers: Record<string, string>;
  /** The response body: read it as a stream, or as text (readText). Ends when the caller's signal aborts. */
  body: IncomingMessage;
  time?: ServerTimeSample;
}

/** A non-2xx answer, as errors.ts reads it: status code, body text, headers. */
class HttpStatusError extends Error {
  readonly code: number;
  readonly body: string;
  readonly headers: Record<string, string>;

  constructor(code: number, body: string, headers: Record<string, string>) {
    super(`HTTP ${code}`);
    this.code = code;
    this.body = body;
    this.headers = headers;
  }
}

export class KubeClient {
  /** The Kubernetes calls cmlock makes (kube/api.ts), each sent by `call` through an Attempt. */
  readonly core = new CoreApi();
  readonly authn = new AuthenticationApi();
  readonly errorContext: ErrorContext;
  readonly requestTimeoutMs: number;
  readonly tuning: Tuning;
  readonly redactor = new Redactor();
  readonly #config: ResolvedConfig;
  readonly #options: ClientOptions;
  readonly #transport: Transport;
  #kubeConfig: KubeConfig;

  constructor(config: ResolvedConfig, options: ClientOptions, tuning: Tuning) {
    this.#config = config;
    this.#options = options;
    this.tuning = tuning;
    this.requestTimeoutMs = options.requestTimeoutMs > 0 ? options.requestTimeoutMs : DEFAULT_REQUEST_TIMEOUT_MS;
    for (const secret of config.secrets) this.redactor.add(secret);
    this.#kubeConfig = config.newKubeConfig();
    this.#transport = new Transport(this.#serverUrl());
    this.errorContext = {
      contextName: config.contextName,
      server: config.server,
      inCluster: config.inCluster,
      redact: (text) => this.redactor.redact(text),
    };
  }

  /** The kubeconfig's server URL (with any path prefix), as requests use it. */
  #serverUrl(): string {
    return this.#kubeConfig.getCurrentCluster()?.server ?? '';
  }

  /** -v diagnostics, always redacted. */
  log(line: string, level = 1): void {
    if (this.#options.verbosity >= level) this.#options.log(this.redactor.redact(line));
  }

  /** The context's credentials for a request made now; remembers the Authorization header so it can be redacted. */
  async #credentials(): Promise<Prepared> {
    let prepared: Prepared;
    try {
      prepared = await this.#transport.prepare(this.#kubeConfig);
    } catch (err) {
      throw new CredentialError(this.#describeCredentialFailure(err));
    }
    for (const [key, value] of Object.entries(prepared.headers)) {
      if (key.toLowerCase() === 'authorization') this.redactor.add(value);
    }
    return prepared;
  }

  #describeCredentialFailure(err: unknown): string {
    const where = contextText(this.errorContext);
    const exec = this.#kubeConfig.getCurrentUser()?.exec as { command?: unknown } | undefined;
    if (exec && typeof exec.command === 'string') {
      // The plugin's stderr and stdout may hold credentials: name the command, never show its output.
      const command = exec.command;
      const code = (err as NodeJS.ErrnoException | undefined)?.code;
      const why =
        code === 'ENOENT'
          ? 'not found (is it installed and on PATH?)'
          : code === 'EACCES'
            ? 'is not executable'
            : err instanceof SyntaxError
              ? 'printed something that is not an ExecCredential'
              : 'failed; run it yourself to see why (its output is not shown, it may contain credentials)';
      return `cannot get credentials for ${where}: exec plugin "${command}" ${why}`;
    }
    const message = err instanceof Error ? err.message : String(err);
    return `cannot get credentials for ${where}: ${this.redactor.redact(oneLine(message, 200))}`;
  }

  /**
   * One API call. `send` receives the Attempt of one try and passes it to a kube/api.ts method, which sends the
   * request through it.
   */
  async call<T>(
    spec: RequestSpec,
    send: (attempt: Attempt) => Promise<Answer<T>>,
    signal: AbortSignal | undefined,
    callOptions: CallOptions = {},
  ): Promise<Timed<T | undefined>> {
    const maxAttempts = callOptions.maxAttempts ?? this.tuning.retry.maxAttempts;
    const backoff = new Backoff(this.tuning.retry, this.tuning.random);
    let refreshedCredentials = false;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      const timeoutMs = Math.min(callOptions.timeoutMs ?? Infinity, this.requestTimeoutMs);
      const state: FailureState = { sent: false, timedOut: false, timeoutMs };
      const probe = new Probe();
      const started = performance.now();
      try {
        const answer = await this.#once(send, probe, signal, state);
        this.#logRequest(spec, probe.status, started);
        return { value: answer.data, time: this.#observed(probe) };
      } catch (raw) {
        this.#observed(probe); // an error answer tells the server's time as well
        if (signal?.aborted) throw signal.reason;
        const code = statusCode(raw);
        this.#logRequest(spec, code, started);
        if (code === 404 && callOptions.notFoundOk) return { value: undefined, time: probe.sample() };
        // Exec-plugin credentials are cached until they say they expire; a 401 means they went stale.
        if (code === 401 && this.#config.refreshableCredentials && !refreshedCredentials) {
          refreshedCredentials = true;
          this.#kubeConfig = this.#config.newKubeConfig();
          this.log('credentials rejected (401); obtaining new ones and retrying once');
          attempt--;
          continue;
        }
        const err = mapRequestError(raw, spec, this.errorContext, state);
        if (!(err instanceof RetryableError) || attempt >= maxAttempts) throw err;
        const delay = Math.round(backoff.next(err.retryAfterMs));
        const { deadline } = callOptions;
        // Never past the caller's deadline; without one, a long Retry-After goes back to the caller.
        const tooLong =
          deadline !== undefined
            ? this.tuning.now() + delay > deadline
            : (err.retryAfterMs ?? 0) > (this.tuning.retry.maxWaitMs ?? Infinity);
        if (tooLong) throw err;
        this.log(
          `${spec.method} ${spec.path}: retrying in ${formatDuration(delay)} (attempt ${attempt + 1} of ${maxAttempts})`,
        );
        await this.tuning.sleep(delay, signal);
      }
    }
  }

  async #once<T>(
    send: (attempt: Attempt) => Promise<Answer<T>>,
    probe: Probe,
    signal: AbortSignal | undefined,
    state: FailureState,
  ): Promise<Answer<T>> {
    // This try's signal: the caller's, or the per-request timeout. Not AbortSignal.any (lock/abort.ts).
    const tried = new LinkedAbort(signal);
    const timer = setTimeout(() => {
      state.timedOut = true;
      tried.abort(new DOMException(`no answer within ${formatDuration(state.timeoutMs)}`, 'TimeoutError'));
    }, state.timeoutMs);
    const attempt: Attempt = { exchange: (request) => this.#exchange(request, tried.signal, probe, state) };
    try {
      // The race matters before the request exists: an exec plugin that hangs ignores the signal.
      return await raceAbort(send(attempt), tried.signal);
    } finally {
      clearTimeout(timer);
      // Released, not aborted: aborting would also close the keep-alive connection the answer came on.
      tried.release();
      if (signal?.aborted) state.timedOut = false;
    }
  }

  /** The time sample of an answer, passed on to ClientOptions.serverTime. */
  #observed(probe: Probe): ServerTimeSample | undefined {
    const sample = probe.sample();
    if (sample !== undefined) this.#options.serverTime?.(sample);
    return sample;
  }

  /** One request and its whole answer: JSON, or HttpStatusError for anything but 2xx. */
  async #exchange(request: ApiRequest, signal: AbortSignal, probe: Probe, state: FailureState): Promise<unknown> {
    const prepared = await this.#credentials();
    signal.throwIfAborted();
    const headers: Record<string, string> = { Accept: request.accept ?? 'application/json', 'User-Agent': USER_AGENT };
    if (request.body !== undefined) headers['Content-Type'] = 'application/json';
    const url = new URL(this.url(request.path, request.query ?? {}));
    state.sent = true;
    probe.sentAt = performance.now();
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const response = await this.#transport.send({ method: request.method, url, headers, body }, prepared, signal);
    state.responded = true;
    probe.received(response);
    const text = await readText(response);
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) throw new HttpStatusError(status, text, headersOf(response));
    return text === '' ? undefined : JSON.parse(text);
  }

  /**
   * Opens a streaming GET (the watch) with the same credentials and transport as every other call. The
   * timeout covers only the wait for the response headers; the caller owns the stream and its signal.
   */
  async openStream(spec: RequestSpec, url: string, signal: AbortSignal): Promise<OpenedStream> {
    const state: FailureState = { sent: false, timedOut: false, timeoutMs: this.requestTimeoutMs };
    const headersTimeout = new AbortController();
    const timer = setTimeout(
      () => headersTimeout.abort(new DOMException('no response headers in time', 'TimeoutError')),
      this.requestTimeoutMs,
    );
    const probe = new Probe();
    const started = performance.now();
    try {
      const prepared = await raceAbort(raceAbort(this.#credentials(), signal), headersTimeout.signal);
      state.sent = true;
      probe.sentAt = performance.now();
      const headers = { Accept: 'application/json', 'User-Agent': USER_AGENT };
      // The stream lives as long as the caller's signal; a request without headers in time ends here.
      const pending = this.#transport.send({ method: 'GET', url: new URL(url), headers }, prepared, signal);
      const response = await raceAbort(pending, headersTimeout.signal).catch((err: unknown) => {
        if (headersTimeout.signal.aborted)
          pending.then(
            (late) => late.destroy(),
            () => undefined,
          );
        throw err;
      });
      probe.received(response);
      const status = response.statusCode ?? 0;
      this.#logRequest(spec, status, started);
      return { status, headers: headersOf(response), body: response, time: this.#observed(probe) };
    } catch (raw) {
      if (signal.aborted) throw signal.reason;
      state.timedOut = headersTimeout.signal.aborted;
      this.#logRequest(spec, undefined, started);
      throw mapRequestError(raw, spec, this.errorContext, state);
    } finally {
      clearTimeout(timer);
    }
  }

  #logRequest(spec: RequestSpec, status: number | undefined, started: number): void {
    const ms = Math.round(performance.now() - started);
    this.log(`${spec.method} ${spec.path} ${status ?? 'failed'} in ${ms}ms`);
  }

  /** Full URL for a path on this server (the kubeconfig's server may carry a path prefix). */
  url(path: string, query: Record<string, string>): string {
    const search = new URLSearchParams(query).toString();
    return `${this.#serverUrl()}${path}${search ? `?${search}` : ''}`;
  }
}

/** Send/receive monotonic times and the Date header of one request. */
class Probe {
  sentAt: number | undefined;
  receivedAt: number | undefined;
  status: number | undefined;
  date: string | undefined;

  received(response: IncomingMessage): void {
    this.receivedAt = performance.now();
    this.status = response.statusCode;
    this.date = response.headers.date;
  }

  sample(): ServerTimeSample | undefined {
    const serverDateMs = this.date ? Date.parse(this.date) : NaN;
    if (Number.isNaN(serverDateMs) || this.sentAt === undefined || this.receivedAt === undefined) return undefined;
    return { serverDateMs, sentAtMono: this.sentAt, receivedAtMono: this.receivedAt };
  }
}

function statusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return err instanceof Error && typeof code === 'number' && code >= 100 && code <= 599 ? code : undefined;
}

/** Rejects with the signal's reason as soon as it aborts, even if `promise` never settles. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
