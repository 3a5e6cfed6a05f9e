import { Command, type CommanderError } from 'commander';
import { deployCommand } from './commands/deploy';
import { detectCommand } from './commands/detect';
import { doraCommand } from './commands/dora';
import { envCommand } from './commands/env';
import { hooksCommand } from './commands/hooks';
import { loginCommand, logoutCommand, whoamiCommand } from './commands/login';
import { logsCommand } from './commands/logs';
import { projectCommands } from './commands/project';
import { runnerCommand } from './commands/runner';
import { schemaCommand } from './commands/schema';
import { canOpenTui, uiCommand } from './commands/ui';
import { webhookCommand } from './commands/webhook';
import { EXIT } from './output';
import { VERSION } from './version';

const program = new Command('sparki')
  .description('Sparki: zero-configuration push-to-deploy CI/CD')
  .version(VERSION)
  .addCommand(detectCommand())
  .addCommand(schemaCommand())
  .addCommand(runnerCommand())
  .addCommand(loginCommand())
  .addCommand(logoutCommand())
  .addCommand(whoamiCommand())
  .addCommand(envCommand())
  .addCommand(logsCommand())
  .addCommand(hooksCommand())
  .addCommand(webhookCommand())
  .addCommand(deployCommand())
  .addCommand(doraCommand())
  .addCommand(uiCommand());
for (const command of projectCommands()) program.addCommand(command);

/** Usage errors (unknown option, missing argument…) exit 2, as docs/cli.md documents. */
function usageExitCodes(command: Command): void {
  command.exitOverride((error: CommanderError) => {
    const usage = error.code !== 'commander.error' && error.exitCode !== 0;
    process.exit(usage ? EXIT.usage : error.exitCode);
  });
  for (const sub of command.commands) usageExitCodes(sub);
}
usageExitCodes(program);

// `sparki` alone opens the terminal UI for a person at a terminal; elsewhere it prints the help
// and exits 2, as before.
const argv = process.argv.length <= 2 && canOpenTui() ? [...process.argv, 'ui'] : process.argv;
await program.parseAsync(argv);
