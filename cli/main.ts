import { Command } from 'commander';
import { detectCommand } from './commands/detect';
import { runnerCommand } from './commands/runner';
import { schemaCommand } from './commands/schema';

const program = new Command('sparki')
  .description('Sparki: zero-configuration push-to-deploy CI/CD')
  .addCommand(detectCommand())
  .addCommand(schemaCommand())
  .addCommand(runnerCommand());

await program.parseAsync(process.argv);
