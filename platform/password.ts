import noSimdModule from 'argon2id/dist/no-simd.wasm';
import simdModule from 'argon2id/dist/simd.wasm';
import setupWasm, { type Argon2idParams, type computeHash } from 'argon2id/lib/setup.js';
import { constantTimeEqual } from '../core/digest';
import { fromBase64Url, toBase64Url } from '../core/secret-box';

/**
 * Argon2id at OWASP's first recommended profile (m=19 MiB, t=2, p=1). workerd cannot compile
 * Wasm from bytes at run time, so the library's modules are imported precompiled.
 * Measured figures and the reasoning live in docs/security.md.
 */
export const PASSWORD_PARAMS = { memorySize: 19_456, passes: 2, parallelism: 1 } as const;
const TAG_LENGTH = 32;
const SALT_LENGTH = 16;

type Params = Pick<Argon2idParams, 'memorySize' | 'passes' | 'parallelism'>;

let argon2: Promise<computeHash> | undefined;
function loadArgon2(): Promise<computeHash> {
  // The loader contract wants WebAssemblyInstantiatedSource; only `instance` is read.
  const instantiate = (module: WebAssembly.Module) => async (imports: WebAssembly.Imports) => ({
    module,
    instance: await WebAssembly.instantiate(module, imports),
  });
  argon2 ??= setupWasm(instantiate(simdModule), instantiate(noSimdModule));
  return argon2;
}

function derive(password: string, salt: Uint8Array, params: Params, tagLength: number) {
  return loadArgon2().then((compute) =>
    compute({
      ...params,
      password: new TextEncoder().encode(password.normalize('NFKC')),
      salt,
      tagLength,
    }),
  );
}

/** PHC string format, so each hash carries the parameters it was made with. */
export async function hashPassword(
  password: string,
  params: Params = PASSWORD_PARAMS,
): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_LENGTH));
  const tag = await derive(password, salt, params, TAG_LENGTH);
  return `$argon2id$v=19$m=${params.memorySize},t=${params.passes},p=${params.parallelism}$${b64(salt)}$${b64(tag)}`;
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

export interface PasswordCheck {
  ok: boolean;
  /** The hash was made with weaker parameters than today's: store a fresh one. */
  needsRehash: boolean;
}

export async function verifyPassword(password: string, encoded: string): Promise<PasswordCheck> {
  const match = PHC.exec(encoded);
  if (!match) return { ok: false, needsRehash: false };
  const params = {
    memorySize: Number(match[1]),
    passes: Number(match[2]),
    parallelism: Number(match[3]),
  };
  const expected = unb64(match[5] as string);
  const actual = await derive(password, unb64(match[4] as string), params, expected.length);
  const ok = constantTimeEqual(actual, expected);
  const needsRehash =
    params.memorySize < PASSWORD_PARAMS.memorySize ||
    params.passes < PASSWORD_PARAMS.passes ||
    params.parallelism !== PASSWORD_PARAMS.parallelism;
  return { ok, needsRehash: ok && needsRehash };
}

let dummyHash: Promise<string> | undefined;
/** Spends the same work as a real check, so an unknown email answers no faster than a wrong password. */
export async function verifyAgainstDummy(password: string): Promise<void> {
  dummyHash ??= hashPassword('sparki-dummy-password');
  await verifyPassword(password, await dummyHash);
}

// PHC uses unpadded standard base64.
function b64(bytes: Uint8Array): string {
  return toBase64Url(bytes).replaceAll('-', '+').replaceAll('_', '/');
}
function unb64(text: string): Uint8Array {
  return fromBase64Url(text.replaceAll('+', '-').replaceAll('/', '_'));
}
