const encoder = new TextEncoder();

function header(path: string, size: number): Uint8Array {
  const block = new Uint8Array(512);
  const put = (text: string, offset: number) => block.set(encoder.encode(text), offset);
  put(path, 0);
  put('0000644\0', 100);
  put('0000000\0', 108);
  put('0000000\0', 116);
  put(`${size.toString(8).padStart(11, '0')}\0`, 124);
  put('00000000000\0', 136);
  put('        ', 148);
  put('0', 156);
  put('ustar\0', 257);
  put('00', 263);
  const sum = block.reduce((total, byte) => total + byte, 0);
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}

/** A .tar.gz of text files, the form a runner uploads build output in. */
export async function tarGz(files: Record<string, string>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (const [path, text] of Object.entries(files)) {
    const data = encoder.encode(text);
    parts.push(
      header(path, data.byteLength),
      data,
      new Uint8Array((512 - (data.byteLength % 512)) % 512),
    );
  }
  parts.push(new Uint8Array(1024));
  const stream = new Blob(parts).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
