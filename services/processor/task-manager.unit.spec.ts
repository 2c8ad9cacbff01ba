import { inputStart } from './task-manager';

describe('inputStart: where an input starts after a restore', () => {
  it.each<[string, string, string | undefined, bigint, boolean]>([
    ['nothing committed, no checkpoint: the beginning', '-1', undefined, 0n, false],
    ['committed, marker from before checkpoints held offsets: the commit', '120', undefined, 120n, false],
    ['checkpoint at the commit (the usual case): the commit', '120', '120', 120n, false],
    ['checkpoint past the commit (its commit failed): the commit, replaying more', '120', '150', 120n, false],
    ['checkpoint older than the commit (a short changelog read): the checkpoint', '120', '90', 90n, true],
    ['nothing committed but a checkpoint: the beginning', '-1', '40', 0n, false],
  ])('%s', (_name, committed, checkpoint, offset, behindCommit) => {
    expect(inputStart(committed, checkpoint)).toEqual({ offset, behindCommit });
  });
});
