/**
 * Where a command's results go: with --json one JSON document (`document`) or one JSON object per
 * line (`record`, for tail and dlq); otherwise the readable rendering the command supplies. Notes
 * for people (what is being waited for) go to stderr, so stdout stays parseable.
 */

export interface Sink {
  out(text: string): void;
  err(text: string): void;
}

export const processSink: Sink = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

export class Output {
  private headerShown = false;

  constructor(private readonly sink: Sink, readonly json: boolean) {}

  /** The whole answer: JSON, or what `readable` renders. */
  document(value: unknown, readable: () => string): void {
    this.sink.out(this.json ? `${JSON.stringify(value)}\n` : readable());
  }

  /** One item of a stream: a JSON line, or a row (after `header` once, when given). */
  record(value: unknown, row: () => string, header?: () => string): void {
    if (this.json) {
      this.sink.out(`${JSON.stringify(value)}\n`);
      return;
    }
    if (header && !this.headerShown) {
      this.headerShown = true;
      this.sink.out(header());
    }
    this.sink.out(row());
  }

  /** A line for the person at the terminal, on stderr (also with --json). */
  note(text: string): void {
    this.sink.err(`${text}\n`);
  }
}
