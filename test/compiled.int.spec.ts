/**
 * The services run compiled (`node dist/services/<name>/main.js`, as `make demo` and the make
 * targets start them): the pid the supervisor holds is the service's node process itself, with no
 * loader or wrapper process between, so `kill -9` of that pid stops the service and leaves nothing.
 * Built into a folder of its own (not dist/) so a running demo is not disturbed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { serviceMain, Supervisor } from '../services/demo/supervisor';
import { env, freePort, provisionPrefix, uniquePrefix, waitFor } from './helpers';

const ROOT = resolve(__dirname, '..');

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
/** Pids whose parent is `pid` (from /proc/<n>/stat; the kernel here has no task/<pid>/children). */
const childrenOf = (pid: number) => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
  try {
    const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
  } catch {
    return false;
  }
});
/** Every live process whose command line mentions `text`. */
const processesMentioning = (text: string) => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
  try {
    return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text);
  } catch {
    return false;
  }
});

describe('compiled services', () => {
  const outDir = mkdtempSync(join(ROOT, '.infra', 'build-test-'));
  const logs = mkdtempSync(join(tmpdir(), 'presence-compiled-'));
  const distDir = relative(ROOT, outDir);

  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'infra/build.mjs'), '--out-dir', distDir], { cwd: ROOT, stdio: 'pipe' });
  }, 120_000);
  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
    rmSync(logs, { recursive: true, force: true });
  });

  it('the build carries the files read at run time (schemas, public pages)', () => {
    for (const f of ['schemas/PresenceSnapshot.avsc', 'services/query/public/index.html', 'services/gateway/public/presence-client.js', 'services/processor/main.js']) {
      expect(existsSync(join(outDir, f))).toBe(true);
    }
  });

  it('the supervisor holds the service process itself: node dist/…/main.js, and kill -9 of it stops the service', async () => {
    const prefix = uniquePrefix('compiled');
    await provisionPrefix(prefix, 1);
    const port = await freePort();
    const sup = new Supervisor(ROOT, logs);
    const main = serviceMain('processor', true, distDir);
    const { child, logFile } = sup.start({
      name: 'processor', main, readyUrl: `http://127.0.0.1:${port}/readyz`,
      env: {
        KAFKA_BROKERS: env.KAFKA_BROKERS.join(','), SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL, TOPIC_PREFIX: prefix,
        PROCESSOR_HTTP_PORT: String(port), PROCESSOR_DATA_DIR: join(logs, 'store'), LOG_LEVEL: 'warn',
      },
    });
    try {
      await sup.waitReady(60_000).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
      });
      const pid = child.pid as number;
      expect(cmdline(pid)).toEqual([process.execPath, resolve(ROOT, main)]);
      expect(cmdline(pid).join(' ')).not.toMatch(/tsx/);
      expect(childrenOf(pid)).toEqual([]);

      const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
      process.kill(pid, 'SIGKILL');
      expect(await exited).toBe('SIGKILL');
      await waitFor(async () => {
        try {
          await fetch(`http://127.0.0.1:${port}/healthz`);
          return false;
        } catch {
          return true;
        }
      }, 'the processor port to close after kill -9', 10_000);
      expect(processesMentioning(resolve(ROOT, main))).toEqual([]);
      expect(sup.dead()).toEqual(['processor']); // a service killed by a signal counts as dead
    } finally {
      await sup.stopAll(2_000);
    }
  }, 120_000);
});
