import { spawnService, type ServiceProcess } from '../support/processes.js';

/**
 * ferry's worker processes of one chaos scenario, each the service's own entry point as a container runs it, with
 * what a supervisor (compose's `restart: always`) does: start them, kill one with SIGKILL, start it again.
 */
type Service = 'download-worker' | 'sync-worker';

interface Member {
  name: string;
  service: Service;
  process: ServiceProcess;
  /** Output of the member's earlier lives, for a post-mortem. */
  history: string;
}

export class WorkerFleet {
  private readonly members: Member[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv, plan: Record<Service, number>) {
    for (const [service, count] of Object.entries(plan) as Array<[Service, number]>) {
      for (let i = 1; i <= count; i++) {
        this.members.push({ name: `${service}-${i}`, service, process: spawnService(service, env), history: '' });
      }
    }
  }

  names(): string[] {
    return this.members.map((m) => m.name);
  }

  /** `kill -9` one worker, then start it again as a supervisor would. */
  async killAndRestart(name: string): Promise<void> {
    const member = this.members.find((m) => m.name === name);
    if (!member) throw new Error(`no worker ${name}`);
    member.process.kill('SIGKILL');
    await member.process.exited;
    member.history += `${member.process.output()}\n--- killed with SIGKILL, restarted ---\n`;
    member.process = spawnService(member.service, this.env);
  }

  /** Workers that exited by themselves (not killed here): a crash is a failure of the scenario. */
  crashed(): Array<{ name: string; code: number | string | null }> {
    return this.members
      .filter((m) => m.process.child.exitCode !== null || (m.process.child.signalCode !== null && m.process.child.signalCode !== 'SIGKILL'))
      .map((m) => ({ name: m.name, code: m.process.child.exitCode ?? m.process.child.signalCode }));
  }

  /** The last lines every worker printed, for a failing scenario's message. */
  tail(lines = 15): string {
    return this.members.map((m) => {
      const out = (m.history + m.process.output()).trimEnd().split('\n').slice(-lines).join('\n');
      return `=== ${m.name} ===\n${out}`;
    }).join('\n');
  }

  /** SIGTERM (a graceful stop), SIGKILL for whatever is still running after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    await Promise.all(this.members.map(async (m) => {
      if (m.process.child.exitCode !== null || m.process.child.signalCode !== null) return;
      m.process.kill('SIGTERM');
      const timer = setTimeout(() => m.process.kill('SIGKILL'), graceMs);
      await m.process.exited;
      clearTimeout(timer);
    }));
  }
}
