/**
 * The S3 emulator in a process of its own, so the benchmark's clients (ferry's worker, rclone) do not share its event
 * loop. Settings overrides come as one JSON argument; prints one JSON line ({ url }), then serves until SIGTERM.
 */
import { startS3Emulator } from '@ferry/emulators/s3';

const emulator = await startS3Emulator({ settings: JSON.parse(process.argv[2] ?? '{}'), cacheBytes: 256 * 1024 * 1024 });
process.stdout.write(`${JSON.stringify({ url: emulator.url })}\n`);
const stop = () => void emulator.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
