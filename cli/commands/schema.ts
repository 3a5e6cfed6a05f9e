import { Command } from 'commander';
import { sparkiJsonSchema } from '../../core/detect';

export function schemaCommand(): Command {
  return new Command('schema')
    .description('print the JSON Schema of sparki.json (published as docs/sparki.schema.json)')
    .action(() => {
      process.stdout.write(`${JSON.stringify(sparkiJsonSchema(), null, 2)}\n`);
    });
}
