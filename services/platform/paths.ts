/**
 * Where the repository is, whether the code runs from source (tsx: services/…) or compiled
 * (node: dist/services/…): the nearest folder above this file holding package.json.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export function repoRoot(from: string = __dirname): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The folder infra/ scripts use ($INFRA_DIR, default <repo>/.infra). */
export function infraDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['INFRA_DIR']) return resolve(env['INFRA_DIR']);
  try {
    return join(repoRoot(), '.infra');
  } catch {
    return resolve('.infra'); // code copied outside a checkout: relative to the working directory
  }
}
