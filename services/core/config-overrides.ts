/**
 * What every validator of a configuration object shares (the presence thresholds, the adaptive
 * offline rule): the issue type and the start of reading an overrides object. Its own file so
 * config.ts and adaptive-config.ts can both import it without importing each other.
 */
/** One problem with a configuration: which field and why. */
export interface ConfigIssue {
  readonly code: 'invalid-config';
  readonly field: string;
  readonly reason: string;
}

/**
 * The start every validator of an overrides object shares: it must be a plain object, and every
 * key one of `fields`; `bad` records one more issue.
 */
export function readOverrides(overrides: unknown, fields: readonly string[]):
  | { readonly ok: true; readonly input: Record<string, unknown>; readonly issues: ConfigIssue[]; readonly bad: (field: string, reason: string) => void }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] } {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    return { ok: false, issues: [{ code: 'invalid-config', field: '(root)', reason: 'must be an object' }] };
  }
  const issues: ConfigIssue[] = [];
  const bad = (field: string, reason: string): void => {
    issues.push({ code: 'invalid-config', field, reason });
  };
  const input = overrides as Record<string, unknown>;
  for (const key of Object.keys(input)) if (!fields.includes(key)) bad(key, 'unknown field');
  return { ok: true, input, issues, bad };
}

