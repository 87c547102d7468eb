// How many terminal columns a string takes, for tables printed a row at a time (`ls -w`), where the rows still to
// come cannot be measured. Text reaching it has been through printable(): no control characters.

/** Combining marks: no column of their own. */
const MARK = /^[\p{Mn}\p{Me}]$/u;
/** Emoji shown as pictures: two columns. */
const EMOJI = /^\p{Emoji_Presentation}$/u;

/** Zero-width spaces and joiners, word joiner, BOM, variation selectors. */
const ZERO_WIDTH: readonly (readonly [number, number])[] = [
  [0x200b, 0x200d],
  [0x2060, 0x2060],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
];
/** East Asian wide and fullwidth ranges (Hangul Jamo, CJK, Hiragana/Katakana, Hangul, fullwidth forms, ...). */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1b000, 0x1b2ff],
  [0x20000, 0x3fffd],
];

const within = (code: number, ranges: readonly (readonly [number, number])[]): boolean =>
  ranges.some(([from, to]) => code >= from && code <= to);

export function displayWidth(text: string): number {
  let width = 0;
  for (const c of text) {
    const code = c.codePointAt(0) ?? 0;
    if (MARK.test(c) || within(code, ZERO_WIDTH)) continue;
    width += within(code, WIDE) || EMOJI.test(c) ? 2 : 1;
  }
  return width;
}
