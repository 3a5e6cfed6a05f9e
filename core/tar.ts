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

/** `path` from a pax extended header (`<len> path=<value>\n` records). */
function paxPath(data: Uint8Array): string | undefined {
  const text = decoder.decode(data);
  let at = 0;
  while (at < text.length) {
    const space = text.indexOf(' ', at);
    const length = Number(text.slice(at, space));
    if (!Number.isInteger(length) || length <= 0) return undefined;
    const record = text.slice(space + 1, at + length - 1);
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
