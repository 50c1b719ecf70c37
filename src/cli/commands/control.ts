// `sluice pause|resume|cancel JOB`: job control, straight to Kafka.
import type { Command } from 'commander';
import type { ControlAction } from '../../domain/job-control.js';
import { cliActor, recordCliAction, withProducerRuntime } from '../context.js';

export function registerControlCommands(program: Command): void {
  for (const action of ['pause', 'resume', 'cancel'] as const satisfies ControlAction[]) {
    program
      .command(action)
      .description(`${action} a job`)
      .argument('<job>', 'job id')
      .option('--tenant <id>', 'tenant the job belongs to', 'default')
      .option('--reason <text>', 'why (recorded in the event)')
      .action((jobId: string, opts: { tenant: string; reason?: string }) =>
        withProducerRuntime(async (runtime) => {
          const result = await runtime.control.control({ tenantId: opts.tenant, jobId, action, by: cliActor(), reason: opts.reason });
          const outcome = result.type === 'applied' ? 'ok' : result.type === 'not-found' ? 'not_found' : 'refused';
          await recordCliAction(runtime.audit, { tenantId: opts.tenant, action: `job.${action}`, target: jobId, outcome, detail: { reason: opts.reason ?? null } });
          if (result.type === 'applied') console.log(`job ${jobId} is now ${result.state.toLowerCase()} (version ${result.version})`);
          else {
            console.error(result.type === 'not-found' ? `no job ${jobId} for tenant ${opts.tenant}` : `refused: ${result.reason}`);
            process.exitCode = 1;
          }
        }),
      );
  }
}
