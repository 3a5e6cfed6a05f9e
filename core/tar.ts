export interface TarFile {
  /** Path inside the archive, without a leading `./`. */
  path: string;
  data: Uint8Array;
}

const BLOCK = 512;
const decoder = new TextDecoder();

function field(header: Uint8Array, offset: number, length: number): string {
  const bytes = header.subarray(offset, offset + length);
  const end = bytes.indexOf(0);
  return decoder.decode(end === -1 ? bytes : bytes.subarray(0, end));
}

function octal(header: Uint8Array, offset: number, length: number): number {
  const text = field(header, offset, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new Error(`corrupt tar header: size "${text}"`);
  return text ? Number.parseInt(text, 8) : 0;
}

/** `path` from a pax extended header (`<len> path=<value>\n` records; `len` counts bytes). */
function paxPath(data: Uint8Array): string | undefined {
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) return undefined;
    const length = Number(decoder.decode(data.subarray(at, space)));
    if (!Number.isInteger(length) || length <= 0) return undefined;
    const record = decoder.decode(data.subarray(space + 1, at + length - 1));
    if (record.startsWith('path=')) return record.slice('path='.length);
    at += length;
  }
  return undefined;
}

function clean(path: string): string | null {
  const parts = path
    .replace(/^\.\//, '')
    .split('/')
    .filter((part) => part && part !== '.');
  // Nothing may land outside the site: such an entry is refused, not rewritten.
  if (parts.includes('..')) return null;
  return parts.join('/');
}

/**
 * Regular files of a (ustar, pax or GNU) tar archive. Directories, links and devices are skipped:
 * a site is files. Throws on a truncated or corrupt archive, or a path that escapes it.
 */
export function readTar(archive: Uint8Array): TarFile[] {
  const files: TarFile[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] ?? 0);
    const dataStart = offset + BLOCK;
    if (dataStart + size > archive.length) throw new Error('truncated tar archive');
    const data = archive.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (type === 'L') {
      longName = decoder.decode(data).replace(/\0+$/, '');
      continue;
    }
    const prefix = field(header, 345, 155);
    const name =
      longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    if (type !== '0' && type !== '\0') continue;
    const path = clean(name);
    if (path === null) throw new Error(`tar entry escapes the archive: ${name}`);
    if (path) files.push({ path, data });
  }
  return files;
}

const encoder = new TextEncoder();

function writeField(header: Uint8Array, offset: number, length: number, value: string) {
  header.set(encoder.encode(value).subarray(0, length), offset);
}

function writeOctal(header: Uint8Array, offset: number, length: number, value: number) {
  writeField(header, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

function headerBlock(name: string, size: number, type: '0' | 'x'): Uint8Array {
  const header = new Uint8Array(BLOCK);
  writeField(header, 0, 100, name);
  writeOctal(header, 100, 8, 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, 0);
  header.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  writeField(header, 156, 1, type);
  writeField(header, 257, 8, 'ustar\u000000');
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  writeField(header, 148, 8, `${checksum.toString(8).padStart(6, '0')}\0 `);
  return header;
}

/** A pax record `<len> path=<value>\n`, whose length counts its own digits. */
function paxRecord(path: string): Uint8Array {
  const body = ` path=${path}\n`;
  const bytes = encoder.encode(body).byteLength;
  let length = bytes + String(bytes).length;
  if (String(length).length !== String(bytes).length) length++;
  return encoder.encode(`${length}${body}`);
}

/**
 * The header blocks for one regular file: a pax extended header first when the path does not
 * fit ustar's 100-byte name (or is not ASCII), so any path survives. Data and padding follow.
 */
export function tarFileHeader(path: string, size: number): Uint8Array[] {
  const ascii = /^[\x20-\x7e]*$/.test(path);
  if (ascii && path.length <= 100) return [headerBlock(path, size, '0')];
  const record = paxRecord(path);
  return [
    headerBlock('PaxHeader', record.byteLength, 'x'),
    record,
    tarPadding(record.byteLength),
    headerBlock(ascii ? path.slice(-100) : 'file', size, '0'),
  ];
}

/** Zeros that round an entry's data up to whole blocks. */
export function tarPadding(size: number): Uint8Array {
  return new Uint8Array((BLOCK - (size % BLOCK)) % BLOCK);
}

/** Two zero blocks end an archive. */
export const TAR_END = new Uint8Array(BLOCK * 2);

/** A whole archive in memory, for small outputs and tests. */
export function writeTar(files: readonly TarFile[]): Uint8Array {
  const parts = files.flatMap((file) => [
    ...tarFileHeader(file.path, file.data.byteLength),
    file.data,
    tarPadding(file.data.byteLength),
  ]);
  parts.push(TAR_END);
  const archive = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    archive.set(part, at);
    at += part.byteLength;
  }
  return archive;
}
