import type { Dropbox } from 'dropbox';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startDropboxEmulator, type DropboxEmulator } from './index.js';
import { sdkClientFor } from './sdk-client.js';

/**
 * The emulator set-up of the Dropbox tests. Each function registers its hooks in the calling `describe` and returns
 * the running emulator through getters, because it starts only when the hooks run.
 */

export interface EmulatorWithSdk {
  readonly emulator: DropboxEmulator;
  /** The real SDK with refresh-token credentials, kept for the whole suite as ferry keeps its client. */
  readonly dbx: Dropbox;
}

/** One emulator for the suite; its counters, faults and settings are reset before each test (its files are kept). */
export function emulatorForSuite(): EmulatorWithSdk {
  let emulator: DropboxEmulator | undefined;
  let dbx: Dropbox | undefined;
  beforeAll(async () => {
    emulator = await startDropboxEmulator();
    dbx = sdkClientFor(emulator);
  });
  afterAll(() => emulator?.close());
  beforeEach(() => emulator!.control.reset());
  return {
    get emulator() {
      return started(emulator);
    },
    get dbx() {
      return started(dbx);
    },
  };
}

/** A new emulator for each test, holding `/probe.txt`: for tests about tokens, which a reset does not revoke. */
export function emulatorForEachTest(): { readonly emulator: DropboxEmulator } {
  let emulator: DropboxEmulator | undefined;
  beforeEach(async () => {
    emulator = await startDropboxEmulator();
    await emulator.putFile('/probe.txt', Buffer.from('probe'));
  });
  afterEach(() => emulator?.close());
  return {
    get emulator() {
      return started(emulator);
    },
  };
}

function started<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the Dropbox emulator is not running: read it inside a test or hook of the describe that set it up');
  return value;
}
