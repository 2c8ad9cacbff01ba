import { missingMallocEnv, PROCESSOR_MALLOC_ENV } from './malloc-env';

describe('missingMallocEnv', () => {
  it.each<[string, NodeJS.ProcessEnv, NodeJS.Platform, string[]]>([
    ['Linux, none set', {}, 'linux', ['MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_']],
    ['Linux, all set', { ...PROCESSOR_MALLOC_ENV }, 'linux', []],
    ['Linux, one set (to anything: an operator\'s choice stands)', { MALLOC_MMAP_THRESHOLD_: '262144' }, 'linux', ['MALLOC_TRIM_THRESHOLD_']],
    ['not glibc: nothing to advise', {}, 'darwin', []],
  ])('%s', (_name, env, platform, expected) => {
    expect(missingMallocEnv(env, platform)).toEqual(expected);
  });
});
