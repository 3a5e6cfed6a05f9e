import { fromBase64Url } from './secret-box';

// GitHub hands a GitHub App's private key over as PKCS#1 (`BEGIN RSA PRIVATE KEY`); WebCrypto and
// jose import PKCS#8 only. PKCS#8 wraps the PKCS#1 key: SEQUENCE { INTEGER 0,
// SEQUENCE { OID rsaEncryption, NULL }, OCTET STRING pkcs1 }.

const RSA_ALGORITHM = [
  0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function derOf(tag: number, content: Uint8Array): Uint8Array {
  const length = derLength(content.length);
  const out = new Uint8Array(1 + length.length + content.length);
  out[0] = tag;
  out.set(length, 1);
  out.set(content, 1 + length.length);
  return out;
}

function pemBody(pem: string, label: string): Uint8Array {
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]+?)-----END ${label}-----`).exec(pem);
  if (!match) throw new Error(`Not a ${label} PEM`);
  const base64 = match[1]!.replace(/\s+/g, '');
  return fromBase64Url(base64.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, ''));
}

function toPem(der: Uint8Array, label: string): string {
  let binary = '';
  for (const byte of der) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** An RSA private key as PKCS#8 PEM, from PKCS#1 (`RSA PRIVATE KEY`) or already PKCS#8. */
export function rsaPrivateKeyToPkcs8(pem: string): string {
  if (pem.includes('-----BEGIN PRIVATE KEY-----')) return pem;
  const pkcs1 = pemBody(pem, 'RSA PRIVATE KEY');
  const version = [0x02, 0x01, 0x00];
  const octets = derOf(0x04, pkcs1);
  const content = new Uint8Array(version.length + RSA_ALGORITHM.length + octets.length);
  content.set(version, 0);
  content.set(RSA_ALGORITHM, version.length);
  content.set(octets, version.length + RSA_ALGORITHM.length);
  return toPem(derOf(0x30, content), 'PRIVATE KEY');
}
