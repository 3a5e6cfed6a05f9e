import { createInterface } from 'node:readline/promises';
import { stripVTControlCharacters, styleText } from 'node:util';
import { CliError, EXIT } from './errors';

/**
 * The conventions every command follows (docs/cli.md): JSON-only stdout with `--json`, colour
 * only on a terminal, no prompt in CI, and the exit codes of ./errors.ts.
 */
export { CliError, EXIT };

/** What the API answered with its error envelope: the message, the code and the request id. */
export class ApiRequestError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
  ) {
    super(message);
  }
}

type Format = Parameters<typeof styleText>[0];

/** `text` styled when the stream is a terminal (styleText honours NO_COLOR and FORCE_COLOR too). */
export function paint(format: Format, text: string, stream: NodeJS.WriteStream = process.stdout) {
  return styleText(format, text, { stream });
}

/** Human output on stderr: notes, hints and progress never mix with what stdout prints. */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** One JSON object per line: a list stays streamable and each line parses on its own. */
export function printNdjson(values: readonly unknown[]): void {
  process.stdout.write(values.map((value) => `${JSON.stringify(value)}\n`).join(''));
}

/** Columns padded to their widest cell; the header dimmed on a terminal. */
export function formatTable(header: string[], rows: string[][]): string {
  const width = (cell: string) => stripVTControlCharacters(cell).length;
  const widths = header.map((cell, column) =>
    Math.max(width(cell), ...rows.map((row) => width(row[column] ?? ''))),
  );
  const pad = (cell: string, column: number) => cell + ' '.repeat(widths[column]! - width(cell));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : pad(cell, column)))
      .join('  ')
      .trimEnd();
  return [paint('dim', line(header)), ...rows.map(line)].join('\n');
}

export function isCi(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const ci = env.CI?.toLowerCase();
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/** A prompt may wait for a person only on a terminal outside CI. */
export function canPrompt(
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY) && !isCi(env);
}

/** The error for input a prompt would have asked for, where no prompt may block. */
export function needsInput(what: string, hint: string): CliError {
  const where = isCi() ? 'CI is set' : 'no terminal to ask on';
  return new CliError(`${what} is needed and ${where}: ${hint}`, EXIT.needsInput);
}

/** Asks on the terminal (stderr), one choice by its number. */
export async function choose<T>(
  question: string,
  choices: readonly { label: string; value: T }[],
): Promise<T> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    for (const [i, choice] of choices.entries())
      process.stderr.write(`  ${i + 1}) ${choice.label}\n`);
    for (;;) {
      const answer = Number((await rl.question(`${question} [1-${choices.length}]: `)).trim());
      const choice = choices[answer - 1];
      if (Number.isInteger(answer) && choice) return choice.value;
    }
  } finally {
    rl.close();
  }
}

/** All of stdin as text, without its final newline (a value piped in, e.g. a token). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Asks for one line of text on the terminal. */
export async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(`${question}: `)).trim();
  } finally {
    rl.close();
  }
}

/** Asks for a value without echoing it (a secret), on the terminal. */
export function askHidden(question: string): Promise<string> {
  const input = process.stdin;
  // Echo off before the question shows: what is typed after it is never displayed.
  input.setRawMode(true);
  process.stderr.write(`${question}: `);
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003') return done(new CliError('interrupted', EXIT.failure));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    input.resume();
    input.on('data', onData);
  });
}

/** The message an error prints on stderr: the API's message with its request id. */
export function describeError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof ApiRequestError) {
    const id = error.requestId ? ` (request id ${error.requestId})` : '';
    return { message: `error: ${error.message}${id}`, exitCode: error.exitCode };
  }
  if (error instanceof CliError)
    return { message: `error: ${error.message}`, exitCode: error.exitCode };
  const message = error instanceof Error ? error.message : String(error);
  return { message: `error: ${message}`, exitCode: EXIT.failure };
}

/** A command's action, with its errors reported the same way everywhere. */
export function action<A extends unknown[]>(
  run: (...args: A) => Promise<unknown>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await run(...args);
      if (typeof code === 'number') process.exitCode = code;
    } catch (error) {
      const { message, exitCode } = describeError(error);
      process.stderr.write(`${paint('red', message, process.stderr)}\n`);
      process.exitCode = exitCode;
    }
  };
}
