// Strings that came from the cluster (holder, reason, host, labels, event messages) are shown escaped, so that a
// hostile value cannot forge table rows, move the cursor or reorder text on the user's terminal. The character
// set and the escapes are src/lock/text.ts's printable(), which every renderer and message uses: one rule for
// everything cmlock prints. This file adds what JSON and YAML serialisers need on top of it.

import { printable } from '../lock/text.ts';

/** The unsafe characters that JSON.stringify and the yaml package leave raw (JSON escapes the C0 controls). */
const RAW_IN_SERIALISED = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/** True when printable() would change the string. */
export function hasUnsafe(text: string): boolean {
  return printable(text) !== text;
}

/**
 * Rewrites the unsafe characters that JSON and YAML serialisers leave raw as `\uXXXX`. Only valid on text where
 * they can occur solely inside JSON strings or double-quoted YAML scalars (see output/format.ts).
 */
export function escapeRawUnicode(serialised: string): string {
  return serialised.replace(RAW_IN_SERIALISED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
