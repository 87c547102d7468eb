// Text safe to show people: lock data written by others may hold newlines or terminal escapes, so every string
// that came from the cluster goes through printable() or quote() before it reaches a message or a table.

// C0 and C1 controls, DEL, and the Unicode line separators and bidirectional overrides that can reorder or hide text.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The string with control characters and bidi overrides escaped, safe to put on a terminal. */
export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return NAMED[c] ?? (code <= 0xff ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`);
  });
}

/** A double-quoted, escaped string: `"db-migrate"`. */
export function quote(text: string): string {
  return `"${printable(text.replaceAll('\\', '\\\\').replaceAll('"', '\\"'))}"`;
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}
