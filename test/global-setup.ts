/**
 * Integration tests need the broker and registry. `make test` starts them; when jest runs alone
 * this starts them too (infra/up.sh is idempotent), unless INFRA_AUTOSTART=0.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

export default function globalSetup(): void {
  if (process.env['INFRA_AUTOSTART'] === '0') return;
  execFileSync('bash', [resolve(__dirname, '../infra/up.sh')], { stdio: 'inherit' });
}
