/**
 * A diagnostic preload: which call sites allocate the Buffers V8 counts as external memory (the
 * source of "external memory pressure" starts of major GCs). Loaded into the processor and its
 * stream threads with
 *   BENCH_PROCESSOR_NODE_ARGS="--require ./test/bench/buffer-probe.cjs" BENCH_KEEP_LOGS=1 make bench
 * it wraps Buffer.alloc, allocUnsafe and allocUnsafeSlow (Buffer.concat allocates through
 * allocUnsafe, so it is seen with its caller), sums the bytes of every allocation of at least
 * BUFFER_PROBE_MIN_BYTES (default 16 KiB; smaller ones come from Node's 8 KiB pool) by its four
 * innermost callers, and every BUFFER_PROBE_EVERY_MS (default 4 s) writes one JSON line per stream
 * thread to stderr: {"bufferProbe": thread, "sites": [[MB, count, site], ...]} (the processor's
 * log in .infra/bench). Buffers Node makes in C++ (socket reads) are not seen. For measuring only:
 * it costs a stack trace per large allocation.
 */
'use strict';
const { threadId } = require('node:worker_threads');

const minBytes = Number(process.env.BUFFER_PROBE_MIN_BYTES ?? 16 * 1024);
const everyMs = Number(process.env.BUFFER_PROBE_EVERY_MS ?? 4000);
/** site → [allocations, bytes] */
const sites = new Map();

function site() {
  return new Error().stack.split('\n').slice(4, 8)
    .map((line) => line.trim().replace(/^at /, '').replace(/\(.*node_modules\//, '(').slice(0, 100))
    .join(' < ');
}

function count(kind, bytes) {
  if (!(bytes >= minBytes)) return;
  const key = `${kind} ${site()}`;
  const s = sites.get(key) ?? [0, 0];
  s[0]++;
  s[1] += bytes;
  sites.set(key, s);
}

for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow']) {
  const original = Buffer[name];
  Buffer[name] = function probed(size, ...rest) {
    count(name, size);
    return original.call(this, size, ...rest);
  };
}
if (threadId !== 0) {
  setInterval(() => {
    const top = [...sites].sort((a, b) => b[1][1] - a[1][1]).slice(0, 12)
      .map(([key, [n, bytes]]) => [Math.round(bytes / 1e6), n, key]);
    process.stderr.write(`${JSON.stringify({ bufferProbe: threadId, sites: top })}\n`);
  }, everyMs).unref();
}
