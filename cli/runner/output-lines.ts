import { StreamMasker } from '../../core/secret-masker';

/** The longest line the log accepts (LogBatchSchema); longer output is cut into pieces. */
export const MAX_LINE_LENGTH = 64 * 1024;

/**
 * Turns one output stream, arriving in arbitrary chunks, into masked lines. Masking happens
 * before splitting, on the masker's own line-aware buffer, so a secret split across two
 * chunks is still caught.
 */
export class OutputLines {
  private readonly masker: StreamMasker;
  private partial = '';

  constructor(
    secrets: readonly string[],
    private readonly emit: (text: string) => void,
  ) {
    this.masker = new StreamMasker(secrets, MAX_LINE_LENGTH);
  }

  write(chunk: string): void {
    this.take(this.masker.push(chunk));
  }

  end(): void {
    this.take(this.masker.flush());
    if (this.partial) this.emitLine(this.partial);
    this.partial = '';
  }

  private take(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) this.emitLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    while (this.partial.length > MAX_LINE_LENGTH) {
      this.emit(this.partial.slice(0, MAX_LINE_LENGTH));
      this.partial = this.partial.slice(MAX_LINE_LENGTH);
    }
  }

  private emitLine(line: string): void {
    for (let start = 0; start < line.length; start += MAX_LINE_LENGTH) {
      this.emit(line.slice(start, start + MAX_LINE_LENGTH));
    }
    if (line.length === 0) this.emit('');
  }
}
