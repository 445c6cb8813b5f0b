import type { CliIo } from '../../services/producer/src/io.js';
import { main } from '../../services/producer/src/program.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the `ferry` CLI in-process with this environment and captures what it prints. */
export async function ferryInProcess(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), isTty: false, env };
  const code = await main(args, io);
  return { code, stdout, stderr };
}
