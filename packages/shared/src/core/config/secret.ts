import { inspect } from 'node:util';

/**
 * A credential. It prints, serialises and inspects as `[redacted]`, so a config object can be logged or thrown
 * around safely; only `reveal()` hands out the value, at the one place that talks to the service.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}

export function secretOrUndefined(value: string | undefined): Secret | undefined {
  return value === undefined ? undefined : new Secret(value);
}
