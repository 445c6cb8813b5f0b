/**
 * `npm run emulators`: the emulated exchange, S3 bucket and Dropbox on fixed local
 * ports, with their control APIs, until Ctrl+C. Prints the environment that points ferry at them.
 *   BINANCE_PORT (default 18081), S3_PORT (18082), DROPBOX_PORT (18083), BINANCE_ARCHIVE_PORT (18084),
 *   BINANCE_LATENCY_MS (0)
 */
import { startEmulators } from './start-all.js';

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const emulators = await startEmulators({
  ports: { binance: port('BINANCE_PORT', 18081), s3: port('S3_PORT', 18082), dropbox: port('DROPBOX_PORT', 18083),
    binanceArchive: port('BINANCE_ARCHIVE_PORT', 18084) },
  binanceLatencyMs: Number(process.env.BINANCE_LATENCY_MS ?? 0),
});
console.log('ferry emulators running; control APIs under /__control/ (counters, settings, faults, reset)');
console.log(`  Binance spot  ${emulators.binance.url}`);
console.log(`  Binance data  ${emulators.binanceArchive.url}  (data.binance.vision)`);
console.log(`  S3 (path)     ${emulators.s3.url}  bucket flatfiles`);
console.log(`  Dropbox       ${emulators.dropbox.url}`);
console.log('\n# point ferry at them:');
for (const [k, v] of Object.entries(emulators.env)) console.log(`${k}=${v}`);
const stop = async () => {
  await emulators.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
