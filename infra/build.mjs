// `npm run build`: a clean tsc emit to dist/ (tsconfig.build.json; `--out-dir <dir>` for another
// folder inside the repository, as a test does), then the files the services
// read at run time beside the code, where their __dirname-relative paths look for them:
// schemas/*.avsc → dist/schemas, services/<name>/public → dist/services/<name>/public.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--out-dir');
const dist = at > 0 ? resolve(root, process.argv[at + 1]) : join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', dist], { stdio: 'inherit' });
cpSync(join(root, 'schemas'), join(dist, 'schemas'), { recursive: true, filter: (f) => statSync(f).isDirectory() || f.endsWith('.avsc') });
for (const name of readdirSync(join(root, 'services'))) {
  const pub = join(root, 'services', name, 'public');
  if (existsSync(pub)) cpSync(pub, join(dist, 'services', name, 'public'), { recursive: true });
}
console.log(`[build] ${relative(root, dist)}/ ready (node ${relative(root, dist)}/services/<name>/main.js)`);
