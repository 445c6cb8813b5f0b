/**
 * The Dropbox emulator in a process of its own, so the benchmark measures the sync worker rather than both sharing
 * one event loop. Prints one JSON line (url and credentials), then serves until SIGTERM.
 */
import { startDropboxEmulator } from '@ferry/emulators/dropbox';

const emulator = await startDropboxEmulator();
process.stdout.write(`${JSON.stringify({ url: emulator.url, credentials: emulator.credentials })}\n`);
const stop = () => void emulator.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
