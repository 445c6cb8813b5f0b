/** Exit codes: 0 done, 1 the work failed or is incomplete, 2 bad usage or configuration. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Where the CLI reads its settings and writes its output; tests pass their own to run it in-process. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress is redrawn in place there). */
  isTty: boolean;
  env: NodeJS.ProcessEnv;
}

export const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTty: Boolean(process.stderr.isTTY),
  env: process.env,
};
