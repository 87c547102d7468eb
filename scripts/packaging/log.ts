// Progress lines for the packaging scripts: status goes to stderr, so stdout stays for data.

export function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
