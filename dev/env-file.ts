import { writeFile } from 'node:fs/promises';

/**
 * Writes variables as a dotenv file only its owner can read: wrangler dev takes the Worker's
 * secrets from it (`--env-file`) instead of its command line, which `ps` shows to every user.
 * Values are single-quoted, which dotenv reads literally; one that could break out is refused.
 */
export async function writeEnvFile(path: string, vars: Record<string, string>): Promise<void> {
  const lines = Object.entries(vars).map(([key, value]) => {
    if (!/^[A-Z][A-Z0-9_]*$/.test(key)) throw new Error(`Not an environment variable name: ${key}`);
    if (/['\r\n]/.test(value)) throw new Error(`${key} holds a quote or a line break`);
    return `${key}='${value}'`;
  });
  await writeFile(path, `${lines.join('\n')}\n`, { mode: 0o600 });
}
