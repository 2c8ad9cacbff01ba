/** Runs one parsed command (help is main's): the only place that knows every command. */
import { unreachable } from '../../core';
import type { CliCommand } from '../args';
import type { CommandContext } from './context';
import { runDlq } from './dlq';
import { runGate } from './gate';
import { runHistory } from './history';
import { runRebuild } from './rebuild';
import { runRoom } from './room';
import { runSet } from './set';
import { runStatus } from './status';
import { runTail } from './tail';
import { runVisibility } from './visibility';

export function runCommand(cmd: Exclude<CliCommand, { name: 'help' }>, ctx: CommandContext): Promise<void> {
  switch (cmd.name) {
    case 'status': return runStatus(cmd, ctx);
    case 'set': return runSet(cmd, ctx);
    case 'visibility': return runVisibility(cmd, ctx);
    case 'room': return runRoom(cmd, ctx);
    case 'tail': return runTail(cmd, ctx);
    case 'gate': return runGate(cmd, ctx);
    case 'dlq': return runDlq(cmd, ctx);
    case 'history': return runHistory(cmd, ctx);
    case 'rebuild': return runRebuild(cmd, ctx);
    default: return unreachable(cmd);
  }
}
