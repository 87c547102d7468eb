// Every line this folder logs and every error message it builds goes through redact(): credentials must never
// reach stderr, at any verbosity, even when a server (or a proxy in front of it) echoes request headers back in
// an error body. Known secrets (the kubeconfig's tokens, keys and passwords, and every Authorization header we
// sent) are replaced verbatim; patterns catch the ones we never saw (exec plugin output, PEM blocks, JWTs).

const REDACTED = '[REDACTED]';

// Shorter strings would redact ordinary words; no real token is this short.
const MIN_SECRET_LENGTH = 8;

const PATTERNS: [RegExp, string][] = [
  [/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)/g, REDACTED],
  [/\b(Bearer|Basic|Negotiate)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, REDACTED],
  [
    /(["']?\b(?:authorization|x-auth-token|token|id-token|refresh-token|access-token|password|client-key-data|clientKeyData|secret)["']?\s*[:=]\s*)(?!(?:Bearer|Basic|Negotiate)\s)("(?:[^"\\]|\\.)*"|'[^']*'|[^\s,;}\]]+)/gi,
    `$1${REDACTED}`,
  ],
];

/** Replaces known secrets and anything that looks like a credential. */
export function redact(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= MIN_SECRET_LENGTH) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * One line, printable, bounded: for text that came from outside (a server's Status message, an error's
 * message) before it goes into one of our messages.
 */
export function oneLine(text: string, max = 300): string {
  const flat = text
    .replace(/\s*[\r\n]+\s*/g, ' ')
    // Terminal escapes and other control characters from a hostile server are shown, not interpreted.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The secrets of one session. Authorization headers are added as they are sent (exec plugins mint new ones). */
export class Redactor {
  readonly #secrets = new Set<string>();

  add(secret: string | undefined | null): void {
    if (!secret) return;
    const value = secret.trim();
    if (value.length < MIN_SECRET_LENGTH) return;
    this.#secrets.add(value);
    // "Bearer xyz" is also known as "xyz"; base64 key data also as the PEM it decodes to (caught by pattern).
    const scheme = /^(?:Bearer|Basic)\s+(\S+)$/i.exec(value);
    if (scheme?.[1]) this.add(scheme[1]);
  }

  redact(text: string): string {
    return redact(text, this.#secrets);
  }
}
