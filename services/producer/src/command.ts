import { Command } from 'commander';
import { EXIT, type CliIo } from './io.js';

/**
 * The `ferry` program and its subcommands. Their actions are declared with `actionWithExitCode`: each resolves to the
 * command's exit code (an error it throws is reported by `main`). The program and its subcommands share one outcome,
 * which `main` returns.
 */
export class FerryCommand extends Command {
  constructor(name?: string, private readonly outcome: { exitCode: number } = { exitCode: EXIT.ok }) {
    super(name);
  }

  get exitCode(): number {
    return this.outcome.exitCode;
  }

  override createCommand(name?: string): FerryCommand {
    return new FerryCommand(name, this.outcome);
  }

  actionWithExitCode(fn: (...args: never[]) => Promise<number>): this {
    return this.action(async (...args: unknown[]) => {
      this.outcome.exitCode = await fn(...(args as never[]));
    });
  }
}

/** Declares one command (name, arguments, options, action) on the `ferry` program. */
export type CliCommand = (program: FerryCommand, io: CliIo) => void;
