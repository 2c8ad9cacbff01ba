/**
 * The glibc malloc settings the processor is started with. glibc reads them once, when the process
 * starts, so they belong to whatever launches it (make processor, the demo, the bench). Without
 * them glibc raises its mmap threshold as buffers are freed, so the megabyte fetch and produce
 * buffers of a catch-up end in per-thread arenas that are never returned: 500,000 users settled at
 * 1,530-1,813 B per user resident with them unset, 733-1,039 B with them set (make bench, 2026-12-07).
 * Buffers from 128 KiB up are mapped and unmapped on their own, and a free top of 128 KiB or more
 * is trimmed.
 */
export const PROCESSOR_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
};

/** The settings this process was started without (Linux only: glibc's), for a start-up warning. */
export function missingMallocEnv(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string[] {
  if (platform !== 'linux') return [];
  return Object.keys(PROCESSOR_MALLOC_ENV).filter((k) => env[k] === undefined);
}
