// The `sluice` command line. Each command lives in its own file under commands/ and is
// registered here; this file only parses arguments and reports failures plainly.
import { Command } from 'commander';
import { ConfigError } from '../config.js';
import { registerApiCommand } from './commands/api.js';
import { registerChangeCommands } from './commands/changes.js';
import { registerControlCommands } from './commands/control.js';
import { registerDbCommands } from './commands/db.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDlqCommands } from './commands/dlq.js';
import { registerExecutorCommand } from './commands/executor.js';
import { registerJobCommands } from './commands/jobs.js';
import { registerProjectionCommands } from './commands/projections.js';
import { registerProjectorCommand } from './commands/projector.js';
import { registerRunCommand } from './commands/run.js';
import { registerSimulatorCommand } from './commands/simulator.js';
import { registerStackCommands } from './commands/stack.js';
import { registerSubmitCommand } from './commands/submit.js';
import { registerTenantCommands } from './commands/tenants.js';
import { registerAuditCommand, registerTokenCommands } from './commands/tokens.js';

const program = new Command()
  .name('sluice')
  .description('Bulk operations against rate-limited APIs, on Apache Kafka')
  .showHelpAfterError();

registerStackCommands(program);
registerDbCommands(program);
registerDemoCommand(program);
registerSimulatorCommand(program);
registerRunCommand(program);
registerApiCommand(program);
registerSubmitCommand(program);
registerControlCommands(program);
registerChangeCommands(program);
registerExecutorCommand(program);
registerProjectorCommand(program);
registerProjectionCommands(program);
registerJobCommands(program);
registerDlqCommands(program);
registerTokenCommands(program);
registerTenantCommands(program);
registerAuditCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`sluice: ${message}\n`);
  process.exitCode = 1;
}
