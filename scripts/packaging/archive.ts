// Release archives written byte for byte by this file, so that the same inputs give the same sha256 on any
// machine: regular files only (no directories, no symlinks), fixed order, owner 0:0, a fixed timestamp, and
// gzip/deflate from the zlib inside the pinned Node. Krew accepts exactly these two formats.

import { promisify } from 'node:util';
import { crc32, deflateRaw, gzip } from 'node:zlib';

export interface Entry {
  name: string;
  data: Buffer;
  mode: 0o755 | 0o644;
}

/** 1980-01-01T00:00:00Z: the earliest time a zip can store, used for both formats; SOURCE_DATE_EPOCH wins. */
export function archiveTime(): Date {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  return new Date(Number.isFinite(epoch) && epoch >= 315532800 ? epoch * 1000 : Date.UTC(1980, 0, 1));
}

const level = 6; // level 9 takes 2.5× longer for 0.3% less

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function tarHeader(e: Entry, mtime: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, at: number): void => void h.write(s, at, 'latin1');
  if (Buffer.byteLength(e.name) > 100) throw new Error(`tar: name too long: ${e.name}`);
  put(e.name, 0);
  put(octal(e.mode, 8), 100);
  put(octal(0, 8), 108); // uid
  put(octal(0, 8), 116); // gid
  put(octal(e.data.length, 12), 124);
  put(octal(mtime, 12), 136);
  put('        ', 148); // checksum placeholder: eight spaces
  put('0', 156); // regular file
  put('ustar\u000000', 257);
  put('root', 265);
  put('root', 297);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

export async function tarGz(entries: Entry[]): Promise<Buffer> {
  const mtime = Math.floor(archiveTime().getTime() / 1000);
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(tarHeader(e, mtime), e.data, Buffer.alloc((512 - (e.data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return promisify(gzip)(Buffer.concat(parts), { level });
}

function dosTime(d: Date): { time: number; date: number } {
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

export async function zip(entries: Entry[]): Promise<Buffer> {
  const { time, date } = dosTime(archiveTime());
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const packed = await promisify(deflateRaw)(e.data, { level });
    const crc = crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, so the mode below is read
    local.copy(central, 6, 4, 28); // version needed … name length
    central.writeUInt32LE(((0o100000 | e.mode) << 16) >>> 0, 38); // external attributes: regular file + mode
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}
