/** Splits a byte stream into lines, holding a partial last line until the next chunk or `flush()`. */
export class LineSplitter {
  private pending = '';
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly onLine: (line: string) => void) {}

  /** Feeds a chunk; complete lines are emitted at once. A multi-byte character split across chunks is kept whole. */
  push(chunk: Uint8Array): void {
    const text = this.pending + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  /** Emits whatever is left as a final line. */
  flush(): void {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    if (rest) this.onLine(rest);
  }
}
