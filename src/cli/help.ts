// --help text around yargs' flag list: what the command does and examples first (as kubectl shows them), the
// usage line, then yargs' flags, then the exit codes in the epilogue.

import type { Command } from './command.ts';

const EXIT_CODES = [
  ['0', 'ok'],
  ['1', 'error (API server, kubeconfig, network, permissions)'],
  ['2', 'usage (bad flag, name, duration or combination; nothing was sent to the cluster)'],
  ['3', 'the lock is held by someone else (try-once, or --timeout reached); wait timed out'],
  ['4', 'not the holder (release or renew of a lock someone else holds)'],
  ['5', 'the lock does not exist'],
  ['6', "the lock was lost during run (run otherwise exits with CMD's exit code)"],
  ['130, 143', 'interrupted by SIGINT, SIGTERM'],
] as const;

/** Greedy word wrap; `indent` prefixes every line. */
function wrapText(text: string, width: number, indent = ''): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(indent + line);
  return lines.join('\n');
}

function examples(command: Pick<Command, 'examples'>, width: number): string {
  const blocks = command.examples.map((e) => `${wrapText(e.comment, width, '  # ')}\n  ${e.command}`);
  return `Examples:\n${blocks.join('\n\n')}`;
}

export function epilogue(): string {
  const w = Math.max(...EXIT_CODES.map(([code]) => code.length));
  return `Exit codes:\n${EXIT_CODES.map(([code, what]) => `  ${code.padEnd(w)}  ${what}`).join('\n')}`;
}

/** The top of `kubectl cmlock COMMAND --help`. */
export function commandUsage(command: Command, width: number): string {
  const args = command.usage === '' ? '' : ` ${command.usage}`;
  return [
    wrapText(command.description, width),
    examples(command, width),
    `Usage:\n  kubectl cmlock ${command.name}${args} [flags]`,
  ].join('\n\n');
}

/** The top of `kubectl cmlock --help`. */
export function rootUsage(commands: readonly Command[], width: number): string {
  const visible = commands.filter((c) => !c.name.startsWith('__'));
  const w = Math.max(...visible.map((c) => c.name.length));
  const list = visible.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`).join('\n');
  const intro =
    'kubectl cmlock takes, inspects, waits on, renews and releases mutual-exclusion locks stored as ' +
    'ConfigMaps, using your current kube context: only one of you migrates the database at a time.';
  const root = {
    examples: [
      {
        comment: 'Take a lock for 30 minutes, waiting while someone else holds it',
        command: 'kubectl cmlock acquire db-migrate --ttl 30m --reason "schema v42"',
      },
      { comment: 'Release it when done', command: 'kubectl cmlock release db-migrate' },
      { comment: 'Hold a lock while a command runs', command: 'kubectl cmlock run db-migrate -- ./migrate.sh' },
      { comment: 'Who holds which lock, everywhere', command: 'kubectl cmlock ls -A' },
    ],
  };
  return [
    wrapText(intro, width),
    examples(root, width),
    `Commands:\n${list}`,
    'Usage:\n  kubectl cmlock COMMAND [flags]\n\nUse "kubectl cmlock COMMAND --help" for more about a command.',
  ].join('\n\n');
}
