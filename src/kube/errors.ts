// The one place where a failed request becomes a typed error. Callers above src/kube/ decide on the type
// (AlreadyExists → held, Conflict → someone else won, Retryable → back off, AmbiguousWrite → read back), and
// print the message as it is, so every message here is one line, says what to do, and is redacted.
// A non-2xx answer's body may echo request headers: only its Status reason and message are used, redacted.

import { CmlockError, ExitCode } from '../errors.ts';
import { formatDuration } from '../lock/duration.ts';
import {
  AlreadyExistsError,
  AmbiguousWriteError,
  ConflictError,
  RetryableError,
  StoreNotFoundError,
} from '../lock/store.ts';
import { oneLine } from './redact.ts';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'delete';

/** What a request was for: used in messages (403, not found) and to tell reads from writes. */
export interface RequestSpec {
  verb: Verb;
  /** Plural resource, with its group for non-core ones: `configmaps`, `selfsubjectreviews.authentication.k8s.io`. */
  resource: string;
  /** Unset for cluster-scoped resources and for lists across all namespaces. */
  namespace?: string;
  allNamespaces?: boolean;
  name?: string;
  method: string;
  /** URL path without the query (safe to log). */
  path: string;
  /** A create that changes nothing (SelfSubjectReview): a failure is retryable, never ambiguous. */
  idempotent?: boolean;
}

/** Who we were talking to, for messages. */
export interface ErrorContext {
  contextName: string;
  /** Safe to print (no credentials). */
  server: string;
  inCluster: boolean;
  redact: (text: string) => string;
}

/** How far the request got when it failed. */
export interface FailureState {
  /** The request was handed to the HTTP client (after credentials were obtained). */
  sent: boolean;
  /** Response headers arrived (a later failure is about the body, not the connection). */
  responded?: boolean;
  /** Our per-request timeout fired. */
  timedOut: boolean;
  timeoutMs: number;
}

/** Credentials could not be obtained (exec plugin failed, key file unreadable): nothing was sent. */
export class CredentialError extends CmlockError {}

/** 403: RBAC, an admission webhook or a terminating namespace refused the request. */
export class ForbiddenError extends CmlockError {}

/** 404 for something other than a lock (a Pod, a namespace). */
export class ResourceNotFoundError extends CmlockError {
  constructor(message: string) {
    super(message, ExitCode.error);
  }
}

/** A request whose failure after sending leaves the server's state unknown. */
function isWrite(spec: RequestSpec): boolean {
  return !spec.idempotent && (spec.verb === 'create' || spec.verb === 'update' || spec.verb === 'delete');
}

/** Maps anything a request threw. CmlockErrors (already mapped, e.g. CredentialError) pass through. */
export function mapRequestError(err: unknown, spec: RequestSpec, ctx: ErrorContext, state: FailureState): CmlockError {
  if (err instanceof CmlockError) return err;
  const status = httpStatusOf(err);
  if (status) return mapStatus(status.code, status.body, status.headers, spec, ctx);
  if (state.timedOut) return timeoutError(spec, ctx, state);
  if (state.responded && !networkCode(err)) return unexpectedResponse(err, spec, ctx);
  return mapNetworkError(err, spec, ctx, state.sent);
}

/** Maps a non-2xx response (a call's HttpStatusError, or read directly by the watch). */
export function mapStatus(
  code: number,
  body: string | undefined,
  headers: Record<string, string> | undefined,
  spec: RequestSpec,
  ctx: ErrorContext,
): CmlockError {
  const status = parseStatus(body);
  const message = status.message ? ctx.redact(oneLine(status.message)) : '';
  const retryAfterMs = parseRetryAfter(headerValue(headers, 'retry-after'));
  const lockName = spec.name ?? '';
  switch (true) {
    case code === 409 && status.reason === 'AlreadyExists':
      return new AlreadyExistsError(lockName);
    case code === 409:
      return new ConflictError(lockName);
    case code === 404:
      return notFound(spec, status);
    case code === 403:
      return forbidden(spec, ctx, message);
    case code === 401:
      return unauthorized(ctx);
    case code === 429:
      return new RetryableError(
        `the API server ${ctx.server} is throttling requests (429 Too Many Requests)${retryAfterText(retryAfterMs)}`,
        retryAfterMs,
      );
    case code >= 500 && isWrite(spec):
      return new AmbiguousWriteError(
        `the API server ${ctx.server} answered ${code}${message ? ` (${message})` : ''} to ${describeWrite(spec)}; ` +
          'it may or may not have been applied',
      );
    case code >= 500:
      return new RetryableError(
        `the API server ${ctx.server} answered ${code}${message ? `: ${message}` : ''}`,
        retryAfterMs,
      );
    default:
      return new CmlockError(
        `the API server rejected ${spec.verb} ${spec.resource}${spec.name ? ` "${spec.name}"` : ''} with ${code}` +
          (status.reason ? ` ${status.reason}` : '') +
          (message ? `: ${message}` : ''),
      );
  }
}

function notFound(spec: RequestSpec, status: ParsedStatus): CmlockError {
  // A create in a namespace that does not exist is a 404 about the namespace, not about the lock.
  if (status.kind === 'namespaces') {
    return new CmlockError(`namespace "${status.name ?? spec.namespace ?? ''}" not found`);
  }
  if (spec.resource === 'configmaps' && spec.name !== undefined) return new StoreNotFoundError(spec.name);
  const where = spec.namespace ? ` in namespace "${spec.namespace}"` : '';
  return new ResourceNotFoundError(`${spec.resource} "${spec.name ?? ''}" not found${where}`);
}

function forbidden(spec: RequestSpec, ctx: ErrorContext, message: string): CmlockError {
  // RBAC says `User "alice" cannot create resource "configmaps" ...`; admission webhooks and terminating
  // namespaces also answer 403, with a message of their own that is more useful than our template.
  if (message && !/\bcannot\b/.test(message)) {
    return new ForbiddenError(`forbidden (${contextText(ctx)}): ${message}`);
  }
  const user = /\bUser "([^"]*)"/.exec(message)?.[1];
  const who = user ? `user "${user}"` : 'you';
  const scope = spec.namespace
    ? { text: `in namespace "${spec.namespace}"`, flag: ` -n ${shellQuote(spec.namespace)}` }
    : spec.allNamespaces
      ? { text: 'in any namespace', flag: ' --all-namespaces' }
      : { text: 'at the cluster scope', flag: '' };
  const contextFlag = ctx.inCluster ? '' : ` --context ${shellQuote(ctx.contextName)}`;
  return new ForbiddenError(
    `forbidden: ${who} cannot ${spec.verb} ${spec.resource} ${scope.text} (${contextText(ctx)}); ` +
      `check with: kubectl auth can-i ${spec.verb} ${spec.resource}${scope.flag}${contextFlag}`,
  );
}

function unauthorized(ctx: ErrorContext): CmlockError {
  if (ctx.inCluster) {
    return new CmlockError(
      'unauthorized: the API server rejected the service account token of this Pod; check it with: kubectl auth whoami',
    );
  }
  const name = shellQuote(ctx.contextName);
  return new CmlockError(
    `unauthorized: the API server rejected the credentials of context "${ctx.contextName}"; ` +
      `check them with: kubectl --context ${name} auth whoami`,
  );
}

function timeoutError(spec: RequestSpec, ctx: ErrorContext, state: FailureState): CmlockError {
  const limit = formatDuration(state.timeoutMs);
  if (state.sent && isWrite(spec)) {
    return new AmbiguousWriteError(
      `the API server ${ctx.server} (${contextText(ctx)}) did not answer ${describeWrite(spec)} within ${limit}; ` +
        'it may or may not have been applied',
    );
  }
  return new RetryableError(`the API server ${ctx.server} (${contextText(ctx)}) did not answer within ${limit}`);
}

/** A 2xx whose body could not be read as the expected object (a proxy's HTML page, a truncated JSON). */
function unexpectedResponse(err: unknown, spec: RequestSpec, ctx: ErrorContext): CmlockError {
  const what = `an unexpected response from the API server ${ctx.server} (${contextText(ctx)})`;
  const detail = err instanceof SyntaxError ? 'not valid JSON' : describeUnknown(err, ctx);
  if (isWrite(spec)) {
    return new AmbiguousWriteError(
      `${what} to ${describeWrite(spec)} (${detail}); it may or may not have been applied`,
    );
  }
  return new CmlockError(`${what} (${detail})`);
}

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'no such host (temporary DNS failure)',
  ENETUNREACH: 'network is unreachable',
  EHOSTUNREACH: 'host is unreachable',
  EADDRNOTAVAIL: 'address not available',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  ETIMEDOUT: 'connection timed out',
};

const CONNECTION_LOST: Record<string, string> = {
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
  UND_ERR_ABORTED: 'request aborted',
};

const TLS_REASONS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate signed by an unknown authority',
  UNABLE_TO_GET_ISSUER_CERT: 'certificate signed by an unknown authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate signed by an unknown authority',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate is not valid for this host name',
};

function mapNetworkError(err: unknown, spec: RequestSpec, ctx: ErrorContext, sent: boolean): CmlockError {
  const code = networkCode(err);
  const where = `the API server ${ctx.server} (${contextText(ctx)})`;
  if (code && UNREACHABLE[code]) {
    // Never connected, so never sent: safe to retry for any verb.
    return new RetryableError(`cannot reach ${where}: ${UNREACHABLE[code]}`);
  }
  if (code && (TLS_REASONS[code] || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO')) {
    const reason = TLS_REASONS[code] ?? code;
    return new CmlockError(
      `cannot reach ${where}: certificate verification failed (${reason}); ` +
        'check certificate-authority in the kubeconfig',
    );
  }
  const lost = (code && CONNECTION_LOST[code]) ?? (code ? code : describeUnknown(err, ctx));
  if (!sent) return new RetryableError(`cannot reach ${where}: ${lost}`);
  if (isWrite(spec)) {
    return new AmbiguousWriteError(
      `lost the connection to ${where} during ${describeWrite(spec)}: ${lost}; it may or may not have been applied`,
    );
  }
  return new RetryableError(`lost the connection to ${where}: ${lost}`);
}

/** The code of a network error, also where it is wrapped (`TypeError: fetch failed` { cause: Error { code } }). */
function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const { code, errors, cause } = e as { code?: unknown; errors?: unknown; cause?: unknown };
    if (typeof code === 'string' && code !== 'ABORT_ERR') return code;
    // Happy eyeballs: an AggregateError of one failure per address.
    if (Array.isArray(errors) && errors.length > 0) {
      const inner = networkCode(errors[0]);
      if (inner) return inner;
    }
    e = cause;
  }
  return undefined;
}

function describeUnknown(err: unknown, ctx: ErrorContext): string {
  const message = err instanceof Error ? err.message : String(err);
  return ctx.redact(oneLine(message, 160)) || 'unknown error';
}

interface ParsedStatus {
  reason?: string;
  message?: string;
  kind?: string;
  name?: string;
}

/** The raw response text of a non-2xx answer (a JSON Status from the API server, anything from a proxy). */
function parseStatus(body: string | undefined): ParsedStatus {
  if (!body) return {};
  try {
    const parsed = JSON.parse(body) as {
      kind?: unknown;
      reason?: unknown;
      message?: unknown;
      details?: { kind?: unknown; name?: unknown };
    };
    if (!parsed || typeof parsed !== 'object' || parsed.kind !== 'Status') return {};
    return {
      reason: typeof parsed.reason === 'string' ? parsed.reason : undefined,
      message: typeof parsed.message === 'string' ? parsed.message : undefined,
      kind: typeof parsed.details?.kind === 'string' ? parsed.details.kind : undefined,
      name: typeof parsed.details?.name === 'string' ? parsed.details.name : undefined,
    };
  } catch {
    return {};
  }
}

function httpStatusOf(
  err: unknown,
): { code: number; body: string | undefined; headers: Record<string, string> | undefined } | undefined {
  // client.ts's HttpStatusError (code, body, headers): a structural check, so this module imports no client.
  if (!(err instanceof Error)) return undefined;
  const { code, body, headers } = err as Error & { code?: unknown; body?: unknown; headers?: unknown };
  if (typeof code !== 'number' || code < 100 || code > 599) return undefined;
  return {
    code,
    body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body),
    headers: headers && typeof headers === 'object' ? (headers as Record<string, string>) : undefined,
  };
}

/** Retry-After is delay-seconds or an HTTP date; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

function headerValue(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

function retryAfterText(ms: number | undefined): string {
  return ms === undefined ? '' : `; retry after ${formatDuration(ms)}`;
}

function describeWrite(spec: RequestSpec): string {
  const kind = spec.resource.replace(/s$/, '');
  return `the ${spec.verb} of ${kind}${spec.name ? ` "${spec.name}"` : ''}`;
}

export function contextText(ctx: ErrorContext): string {
  return ctx.inCluster ? 'in-cluster service account' : `context "${ctx.contextName}"`;
}

/** Quotes a word for the copy-pasteable `kubectl ...` hints. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_.:@/=+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
