/**
 * The ctrnet-cni executable (bin/ctrnet-cni): reads the CNI environment and the network
 * configuration on stdin, runs the verb (cni/plugin.ts) against ctrnetd's socket, writes the
 * answer on stdout and exits with its code. A client of ctrnetd only, like the CLI.
 */
import { clientOf } from './client';
import { runPlugin } from './plugin';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

export async function main(): Promise<void> {
  const stdin = await readStdin();
  const out = await runPlugin({ env: process.env, stdin }, (socket) => clientOf(socket));
  process.stdout.write(out.stdout, () => process.exit(out.code));
}

if (require.main === module) void main();
