/**
 * Starts the product's services as child processes for the demo, each with its log in a file,
 * waits for their /readyz, and stops them all (SIGTERM, then SIGKILL after a grace period).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * A service's entry point: compiled (`dist/services/<name>/main.js`, run by plain node, so the pid
 * the supervisor holds is the service itself) or source (`services/<name>/main.ts` through tsx,
 * for development).
 */
export function serviceMain(name: string, compiled: boolean, distDir = 'dist'): string {
  return compiled ? `${distDir}/services/${name}/main.js` : `services/${name}/main.ts`;
}

/** How node runs `main`: a .ts file through tsx's loader (in process), a .js file as it is. */
export function nodeArgs(main: string): string[] {
  return main.endsWith('.ts') ? ['--import', 'tsx', main] : [main];
}

export interface ServiceSpec {
  readonly name: string;
  /** Its entry point relative to the repository root: compiled .js (see serviceMain) or .ts (tsx). */
  readonly main: string;
  readonly env: Readonly<Record<string, string>>;
  /** Answers 200 when the service is ready. */
  readonly readyUrl: string;
}

export interface Running {
  readonly spec: ServiceSpec;
  readonly child: ChildProcess;
  readonly logFile: string;
}

/** Exited, by a code or by a signal (a child killed by SIGKILL has exitCode null and signalCode set). */
function hasExited(c: ChildProcess): boolean {
  return c.exitCode !== null || c.signalCode !== null;
}

export class Supervisor {
  private readonly running: Running[] = [];

  constructor(private readonly root: string, private readonly logDir: string) {
    mkdirSync(logDir, { recursive: true });
  }

  start(spec: ServiceSpec): Running {
    const logFile = join(this.logDir, `${spec.name}.log`);
    const out = createWriteStream(logFile, { flags: 'w' });
    const child = spawn(process.execPath, nodeArgs(resolve(this.root, spec.main)), {
      cwd: this.root, env: { ...process.env, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    const r = { spec, child, logFile };
    this.running.push(r);
    return r;
  }

  /** Resolves when every service answers its ready URL; rejects naming the one that died or timed out. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(this.running.map(async (r) => {
      for (;;) {
        if (hasExited(r.child)) throw new Error(`${r.spec.name} exited with ${r.child.exitCode ?? r.child.signalCode}; see ${r.logFile}`);
        try {
          if ((await fetch(r.spec.readyUrl)).ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`${r.spec.name} not ready after ${timeoutMs} ms (${r.spec.readyUrl}); see ${r.logFile}`);
        await new Promise((res) => setTimeout(res, 250));
      }
    }));
  }

  /** Names of services that exited on their own. */
  dead(): string[] {
    return this.running.filter((r) => hasExited(r.child)).map((r) => r.spec.name);
  }

  async stopAll(graceMs = 10_000): Promise<void> {
    await Promise.all(this.running.map(async (r) => {
      if (hasExited(r.child)) return;
      const exited = new Promise<void>((res) => r.child.once('exit', () => res()));
      r.child.kill('SIGTERM');
      const timer = setTimeout(() => r.child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }));
  }
}
