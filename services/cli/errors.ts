/**
 * The CLI's errors, each with the exit code it ends the process with: 2 for what the user typed
 * (an argument, naming it), 1 for everything the CLI could not get done (a service or Kafka that
 * cannot be reached, a refused token), with the context in the message.
 */

export class CliError extends Error {
  constructor(
    readonly code: 'USAGE' | 'UNREACHABLE' | 'REFUSED' | 'CONFIG',
    message: string,
    readonly exitCode: 1 | 2,
    readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** A bad argument or option: exit 2, the message names it. */
export class UsageError extends CliError {
  constructor(readonly argument: string, message: string) {
    super('USAGE', `${argument}: ${message}`, 2);
  }
}

/** Kafka, the registry or the query service did not answer: exit 1, the message says which and where. */
export class UnreachableError extends CliError {
  constructor(message: string, cause?: unknown) {
    super('UNREACHABLE', message, 1, cause);
  }
}

/** A service answered but refused (a token it does not accept, a caller not allowed): exit 1. */
export class RefusedError extends CliError {
  constructor(message: string) {
    super('REFUSED', message, 1);
  }
}
