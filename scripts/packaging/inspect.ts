// Structural checks for executables we cannot run here: the container format and architecture are the
// expected ones, the NODE_SEA_BLOB is where Node looks for it (ELF note, Mach-O section NODE_SEA/
// __NODE_SEA_BLOB, PE RCDATA resource), it holds our script, the sentinel fuse is flipped, and a darwin or
// Windows binary carries no stale code signature.

import type { Target } from './config.ts';
import { certificateTable, peLayout } from './pe.ts';

export const fuse = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** SEA blob header: kMagic in node_sea.h. */
const blobMagic = 0x0143da20;

export interface Inspection {
  format: string;
  blobBytes: number;
  signature: 'none' | 'present';
}

function findAll(buf: Buffer, needle: Buffer): number[] {
  const at: number[] = [];
  for (let i = buf.indexOf(needle); i !== -1; i = buf.indexOf(needle, i + 1)) at.push(i);
  return at;
}

function u64(buf: Buffer, at: number): number {
  return Number(buf.readBigUInt64LE(at));
}

function elfBlob(buf: Buffer, t: Target): Buffer {
  if (buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) throw new Error('not a 64-bit LE ELF');
  const machine = buf.readUInt16LE(0x12);
  const want = t.arch === 'amd64' ? 0x3e : 0xb7;
  if (machine !== want) throw new Error(`ELF machine 0x${machine.toString(16)}, expected 0x${want.toString(16)}`);
  const phoff = u64(buf, 0x20);
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (buf.readUInt32LE(ph) !== 4 /* PT_NOTE */) continue;
    const start = u64(buf, ph + 8);
    const end = start + u64(buf, ph + 32);
    for (let n = start; n + 12 <= end;) {
      const namesz = buf.readUInt32LE(n);
      const descsz = buf.readUInt32LE(n + 4);
      const name = buf.toString('latin1', n + 12, n + 12 + namesz).replace(/\0+$/, '');
      const desc = n + 12 + Math.ceil(namesz / 4) * 4;
      if (name === 'NODE_SEA_BLOB') return buf.subarray(desc, desc + descsz);
      n = desc + Math.ceil(descsz / 4) * 4;
    }
  }
  throw new Error('no NODE_SEA_BLOB note in any PT_NOTE segment');
}

function machoBlob(buf: Buffer, t: Target): { blob: Buffer; signed: boolean } {
  if (buf.readUInt32LE(0) !== 0xfeedfacf) throw new Error('not a 64-bit Mach-O (thin) executable');
  const cpu = buf.readUInt32LE(4);
  const want = t.arch === 'amd64' ? 0x01000007 : 0x0100000c;
  if (cpu !== want) throw new Error(`Mach-O cputype 0x${cpu.toString(16)}, expected 0x${want.toString(16)}`);
  const ncmds = buf.readUInt32LE(16);
  let blob: Buffer | undefined;
  let signed = false;
  for (let i = 0, lc = 32; i < ncmds; i++, lc += buf.readUInt32LE(lc + 4)) {
    const cmd = buf.readUInt32LE(lc);
    if (cmd === 0x1d /* LC_CODE_SIGNATURE */) signed = true;
    if (cmd !== 0x19 /* LC_SEGMENT_64 */) continue;
    if (buf.toString('latin1', lc + 8, lc + 24).replace(/\0+$/, '') !== 'NODE_SEA') continue;
    const nsects = buf.readUInt32LE(lc + 64);
    for (let s = 0; s < nsects; s++) {
      const sect = lc + 72 + s * 80;
      if (buf.toString('latin1', sect, sect + 16).replace(/\0+$/, '') !== '__NODE_SEA_BLOB') continue;
      const size = u64(buf, sect + 40);
      const offset = buf.readUInt32LE(sect + 48);
      blob = buf.subarray(offset, offset + size);
    }
  }
  if (!blob) throw new Error('no NODE_SEA,__NODE_SEA_BLOB section');
  return { blob, signed };
}

function peBlob(buf: Buffer): Buffer {
  const { optional, dataDirectories } = peLayout(buf);
  const machine = buf.readUInt16LE(optional - 20);
  if (machine !== 0x8664) throw new Error(`PE machine 0x${machine.toString(16)}, expected 0x8664 (x64)`);
  const sections = optional + buf.readUInt16LE(optional - 4);
  const nsections = buf.readUInt16LE(optional - 18);
  const fileOffset = (rva: number): number => {
    for (let i = 0; i < nsections; i++) {
      const s = sections + i * 40;
      const va = buf.readUInt32LE(s + 12);
      const size = Math.max(buf.readUInt32LE(s + 8), buf.readUInt32LE(s + 16));
      if (rva >= va && rva < va + size) return rva - va + buf.readUInt32LE(s + 20);
    }
    throw new Error(`RVA 0x${rva.toString(16)} is in no section`);
  };
  const root = fileOffset(buf.readUInt32LE(dataDirectories + 2 * 8));
  const entries = (dir: number): { name: number | string; target: number; isDir: boolean }[] => {
    const count = buf.readUInt16LE(dir + 12) + buf.readUInt16LE(dir + 14);
    return Array.from({ length: count }, (_, i) => {
      const e = dir + 16 + i * 8;
      const name = buf.readUInt32LE(e);
      const data = buf.readUInt32LE(e + 4);
      const str = root + (name & 0x7fffffff);
      return {
        name: name & 0x80000000 ? buf.toString('utf16le', str + 2, str + 2 + 2 * buf.readUInt16LE(str)) : name,
        target: root + (data & 0x7fffffff),
        isDir: (data & 0x80000000) !== 0,
      };
    });
  };
  const rcdata = entries(root).find((e) => e.name === 10 && e.isDir);
  const named = rcdata && entries(rcdata.target).find((e) => e.name === 'NODE_SEA_BLOB' && e.isDir);
  const lang = named && entries(named.target)[0];
  if (!lang || lang.isDir) throw new Error('no RCDATA resource named NODE_SEA_BLOB');
  const start = fileOffset(buf.readUInt32LE(lang.target));
  return buf.subarray(start, start + buf.readUInt32LE(lang.target + 4));
}

/** Throws unless `buf` is a finished single executable for `t` whose blob holds `contents` (script, assets). */
export function inspectExecutable(buf: Buffer, t: Target, contents: readonly Buffer[]): Inspection {
  let blob: Buffer;
  let signature: Inspection['signature'] = 'none';
  if (t.format === 'elf') blob = elfBlob(buf, t);
  else if (t.format === 'macho') {
    const m = machoBlob(buf, t);
    blob = m.blob;
    if (m.signed) signature = 'present';
  } else {
    blob = peBlob(buf);
    if (certificateTable(buf).size !== 0) signature = 'present';
  }
  if (blob.readUInt32LE(0) !== blobMagic) throw new Error('the NODE_SEA_BLOB does not start with the SEA magic');
  for (const c of contents) {
    if (blob.indexOf(c.subarray(0, 4096)) === -1) throw new Error('the NODE_SEA_BLOB misses our script or an asset');
  }
  const fuses = findAll(buf, Buffer.from(`${fuse}:`));
  if (fuses.length !== 1) throw new Error(`expected one sentinel fuse, found ${fuses.length}`);
  if (buf[(fuses[0] ?? 0) + fuse.length + 1] !== 0x31) throw new Error('the sentinel fuse is not flipped to 1');
  if (signature === 'present') throw new Error('a code signature survived the injection (it no longer matches)');
  return { format: t.format, blobBytes: blob.length, signature };
}
