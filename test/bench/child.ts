/**
 * The services under test run as child processes, exactly as deployed (`node
 * dist/services/<name>/main.js` with env; `make bench` builds first), so their memory is theirs alone and they share nothing with
 * the bench's event loop. Their JSON log lines (pino) are kept in a file and parsed, because some
 * figures (restore timing) are only visible there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

export interface LogLine {
  readonly msg?: string;
  readonly time?: number;
  readonly level?: number;
  readonly [field: string]: unknown;
}

export class Child {
  readonly lines: LogLine[] = [];
  readonly spawnedAt = Date.now();
  private readonly child: ChildProcess;
  private readonly out: WriteStream;
  private readonly waiters = new Set<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  readonly exited: Promise<number | null>;

  constructor(readonly name: string, root: string, main: string, env: Record<string, string>, readonly logFile: string, nodeArgs: readonly string[] = []) {
    this.out = createWriteStream(logFile, { flags: 'w' });
    // A compiled service (dist/…/main.js) runs as deployed; TypeScript (the load generators) through tsx.
    const loader = main.endsWith('.ts') ? ['--import', 'tsx'] : [];
    this.child = spawn(process.execPath, [...nodeArgs, ...loader, resolve(root, main)], {
      cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((res) => this.child.once('exit', (code) => res(code)));
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (text) => {
        this.out.write(`${text}\n`);
        if (!text.startsWith('{')) return;
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          return;
        }
        this.lines.push(line);
        for (const w of this.waiters) {
          if (w.match(line)) {
            this.waiters.delete(w);
            w.resolve(line);
          }
        }
      });
    }
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid`);
    return this.child.pid;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resident set size, from /proc (what the kernel charges this process). */
  rssKiB(): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  }

  /** The first log line (already seen or to come) that matches; fails if the child dies or time runs out. */
  waitLog(match: (l: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((res, rej) => {
      const w = { match, resolve: (l: LogLine) => { clearTimeout(timer); res(l); } };
      const timer = setTimeout(() => { this.waiters.delete(w); rej(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; see ${this.logFile}`)); }, timeoutMs);
      this.waiters.add(w);
      void this.exited.then((code) => {
        if (!this.waiters.has(w)) return;
        this.waiters.delete(w);
        clearTimeout(timer);
        rej(new Error(`${this.name} exited (${code}) before ${what}; see ${this.logFile}`));
      });
    });
  }

  /** Polls an HTTP URL until it answers 2xx. */
  async waitHttpOk(url: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.alive) throw new Error(`${this.name} exited (${this.child.exitCode}) before ${url} answered; see ${this.logFile}`);
      try {
        if ((await fetch(url)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${this.name}: ${url} not OK within ${timeoutMs} ms; see ${this.logFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGTERM (the services finish their batch and commit), SIGKILL after the grace period. */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.alive) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await new Promise<void>((r) => this.out.end(r));
  }
}

/** A port nobody listens on right now (the OS picks it), for a child's HTTP server. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => res(port));
    });
  });
}

/** Value of one Prometheus sample (summed over label sets) from a /metrics text, or null. */
export function metricValue(text: string, name: string): number | null {
  let total: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) total = (total ?? 0) + v;
  }
  return total;
}

export async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  return res.text();
}
