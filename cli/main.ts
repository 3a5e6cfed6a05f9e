import { Command } from 'commander';
import { detectCommand } from './commands/detect';
import { loginCommand, logoutCommand, whoamiCommand } from './commands/login';
import { runnerCommand } from './commands/runner';
import { schemaCommand } from './commands/schema';
import { VERSION } from './version';

const program = new Command('sparki')
  .description('Sparki: zero-configuration push-to-deploy CI/CD')
  .version(VERSION)
  .addCommand(detectCommand())
  .addCommand(schemaCommand())
  .addCommand(runnerCommand())
  .addCommand(loginCommand())
  .addCommand(logoutCommand())
  .addCommand(whoamiCommand());

await program.parseAsync(process.argv);
