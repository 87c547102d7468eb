// kubectl cmlock version: the plugin's version (no cluster needed).

import { UsageError } from '../../errors.ts';
import { toJson, toYaml } from '../../output/format.ts';
import { VERSION } from '../../version.ts';
import { defineCommand, noRest } from '../command.ts';
import { OPTIONS, withOverrides } from '../options.ts';
import { outputFormat } from '../validate.ts';

export interface VersionCommandOptions {
  output?: 'json' | 'yaml';
}

export const versionCommand = defineCommand<VersionCommandOptions>({
  name: 'version',
  usage: '',
  summary: 'Print the version',
  description: 'Print the version of kubectl-cmlock.',
  examples: [{ comment: 'For a bug report', command: 'kubectl cmlock version -o json' }],
  options: [withOverrides(OPTIONS.output, { choices: ['json', 'yaml'], describe: 'Output format: json or yaml.' })],

  parse(args) {
    if (args.positionals.length > 0)
      throw new UsageError(`version takes no arguments, got: ${args.positionals.join(' ')}`);
    noRest(args);
    const output = outputFormat(args.string(OPTIONS.output), ['json', 'yaml'] as const);
    return output === undefined ? {} : { output };
  },

  run(rt, _global, o) {
    const info = { version: `v${VERSION}` };
    if (o.output === 'json') rt.stdout.write(toJson(info));
    else if (o.output === 'yaml') rt.stdout.write(toYaml(info));
    else rt.stdout.write(`kubectl-cmlock v${VERSION}\n`);
    return Promise.resolve(0);
  },
});
