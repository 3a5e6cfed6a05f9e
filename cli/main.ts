import { Command } from 'commander';
import { detectCommand } from './commands/detect';
import { hooksCommand } from './commands/hooks';
import { runnerCommand } from './commands/runner';
import { schemaCommand } from './commands/schema';
import { VERSION } from './version';

const program = new Command('sparki')
  .description('Sparki: zero-configuration push-to-deploy CI/CD')
  .version(VERSION)
  .addCommand(detectCommand())
  .addCommand(schemaCommand())
  .addCommand(runnerCommand())
  .addCommand(hooksCommand());

await program.parseAsync(process.argv);
