// kubectl cmlock describe NAME: everything known about one lock, with its recent Events.

import { describe } from '../../lock/protocol.ts';
import { renderDescribe } from '../../output/describe.ts';
import { renderLock, type ObjectFormat } from '../../output/lock.ts';
import { defineCommand, lockOutputFlag, singleName } from '../command.ts';
import { OPTIONS, withOverrides } from '../options.ts';
import { openConnection, observer } from '../connection.ts';

export interface DescribeCommandOptions {
  name: string;
  output?: ObjectFormat;
}

export const describeCommand = defineCommand<DescribeCommandOptions>({
  name: 'describe',
  usage: 'NAME',
  positional: { name: 'NAME', describe: 'The lock to describe.' },
  summary: 'Show everything known about a lock',
  description:
    'Show the lock NAME: holder, authenticated user, host, reason, acquire and renew times, lease, expiry, ' +
    'fencing token, owner Pod, labels, and the Events recorded on it (acquired, released, taken over, broken).',
  examples: [
    {
      comment: 'Who holds the migration lock, and what happened to it lately',
      command: 'kubectl cmlock describe db-migrate',
    },
    { comment: 'The same as YAML', command: 'kubectl cmlock describe db-migrate -o yaml' },
  ],
  options: [
    withOverrides(OPTIONS.output, {
      choices: ['json', 'yaml', 'name'],
      describe: 'Output format: json, yaml or name (default: a description for humans).',
    }),
  ],

  parse(args) {
    const options: DescribeCommandOptions = { name: singleName('describe', args) };
    const output = lockOutputFlag(args);
    if (output !== undefined) options.output = output;
    return options;
  },

  async run(rt, global, o) {
    const conn = await openConnection(rt, global);
    const lock = await describe(conn.lockContext(observer(rt, conn)), o.name, rt.signal);
    rt.stdout.write(o.output === undefined ? renderDescribe(lock, conn.serverNow()) : renderLock(lock, o.output));
    return 0;
  },
});
