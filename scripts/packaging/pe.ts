// Windows PE details: node.exe is Authenticode-signed, and injecting the application invalidates that
// signature. A broken signature is worse than none (tools report tampering), so it is removed before
// injection, the way `signtool remove /s` would; the PE checksum is recomputed after. The result is an
// unsigned executable: we have no code-signing certificate to sign it again.

export interface PeLayout {
  /** Offset of the optional header. */
  optional: number;
  /** Offset of the data directory array. */
  dataDirectories: number;
}

export function peLayout(buf: Buffer): PeLayout {
  if (buf.readUInt16LE(0) !== 0x5a4d) throw new Error('not a PE file (no MZ header)');
  const pe = buf.readUInt32LE(0x3c);
  if (buf.readUInt32LE(pe) !== 0x00004550) throw new Error('not a PE file (no PE signature)');
  const optional = pe + 24;
  const magic = buf.readUInt16LE(optional);
  if (magic !== 0x20b)
    throw new Error(`expected a PE32+ (64-bit) image, optional header magic is 0x${magic.toString(16)}`);
  return { optional, dataDirectories: optional + 112 };
}

const certificateEntry = (l: PeLayout): number => l.dataDirectories + 4 * 8;

/** The file offset and size of the Authenticode certificate table (size 0: unsigned). */
export function certificateTable(buf: Buffer): { offset: number; size: number } {
  const e = certificateEntry(peLayout(buf));
  return { offset: buf.readUInt32LE(e), size: buf.readUInt32LE(e + 4) };
}

/** Returns the image without its certificate table (which sits at the end of the file). */
export function removeSignature(buf: Buffer): Buffer {
  const { offset, size } = certificateTable(buf);
  if (size === 0) return buf;
  if (offset + size !== buf.length) {
    throw new Error(`the certificate table (${offset}+${size}) is not at the end of the file (${buf.length})`);
  }
  const out = Buffer.from(buf.subarray(0, offset));
  const e = certificateEntry(peLayout(out));
  out.writeUInt32LE(0, e);
  out.writeUInt32LE(0, e + 4);
  writeChecksum(out);
  return out;
}

/** The PE image checksum (as IMAGEHLP's CheckSumMappedFile computes it), written in place. */
export function writeChecksum(buf: Buffer): void {
  const field = peLayout(buf).optional + 64;
  let sum = 0;
  const words = Math.floor(buf.length / 2);
  for (let i = 0; i < words; i++) {
    const at = i * 2;
    if (at === field || at === field + 2) continue;
    sum += buf.readUInt16LE(at);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (buf.length % 2) {
    sum += buf[buf.length - 1] ?? 0;
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  sum = (sum & 0xffff) + (sum >>> 16);
  buf.writeUInt32LE((sum + buf.length) >>> 0, field);
}
