// JSON and YAML for machines: the data unchanged, but never a raw terminal control character in the text.

import { Document, visit } from 'yaml';
import { escapeRawUnicode, hasUnsafe } from './escape.ts';

/** 2-space indented JSON with a trailing newline; JSON.stringify escapes C0 controls, we escape the rest. */
export function toJson(value: unknown): string {
  return `${escapeRawUnicode(JSON.stringify(value, null, 2))}\n`;
}

/**
 * YAML in kubectl's layout (sequences not indented under their key, no line folding). A string holding any
 * unsafe character is written double-quoted, where `\n`, `\e` and `\uXXXX` are escapes, so the printed text
 * never contains the raw character and still parses back to the same value.
 */
export function toYaml(value: unknown): string {
  const doc = new Document(value);
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && hasUnsafe(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return escapeRawUnicode(doc.toString({ indentSeq: false, lineWidth: 0 }));
}

/** One-line JSON (a stream of objects, one a line, as `kubectl get -w --output-watch-events -o json` prints). */
export function toJsonLine(value: unknown): string {
  return `${escapeRawUnicode(JSON.stringify(value))}\n`;
}
