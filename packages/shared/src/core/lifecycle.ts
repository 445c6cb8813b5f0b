import type { Logger } from 'pino';

/**
 * Resources a process opened, released last-in-first-out on shutdown (a worker closes before the Redis connection
 * it uses). The first SIGTERM/SIGINT starts a graceful shutdown; a second one forces exit.
 */
export class Lifecycle {
  private readonly closers: Array<{ name: string; close: () => Promise<unknown> | unknown }> = [];
  private shuttingDown: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  /** Registers something to close at shutdown; returns the thing for chaining. */
  add<T>(name: string, thing: T, close: (thing: T) => Promise<unknown> | unknown): T {
    this.closers.push({ name, close: () => close(thing) });
    return thing;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown !== undefined;
  }

  shutdown(reason: string): Promise<void> {
    this.shuttingDown ??= this.closeAll(reason);
    return this.shuttingDown;
  }

  private async closeAll(reason: string): Promise<void> {
    this.logger.info({ reason }, 'shutting down');
    while (this.closers.length > 0) {
      const { name, close } = this.closers.pop()!;
      try {
        await close();
      } catch (err) {
        this.logger.warn({ err, resource: name }, 'error while closing');
      }
    }
  }

  /** SIGTERM/SIGINT: graceful shutdown then exit 0; a second signal exits at once with 130. */
  installSignalHandlers(exit: (code: number) => void = (code) => process.exit(code)): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.isShuttingDown) {
        this.logger.warn({ signal }, 'second signal: forcing exit');
        exit(130);
        return;
      }
      void this.shutdown(signal).then(
        () => exit(0),
        (err: unknown) => {
          this.logger.error({ err }, 'shutdown failed');
          exit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
}
