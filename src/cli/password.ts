/**
 * Where a bind password comes from on the command line — never a flag value (shell history):
 * `--bind-password-file F`, else ROSTER_BIND_PASSWORD, else a prompt without echo on a terminal.
 */
import { readFileSync } from 'node:fs';
import { RosterError } from '../core/errors.ts';

/** Reads a password file; one trailing newline is not part of the password. */
export function readPasswordFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new RosterError('bad_input', `cannot read password file ${path}`, { cause });
  }
  const pw = text.replace(/\r?\n$/, '');
  if (pw === '') throw new RosterError('bad_input', `password file ${path} is empty`);
  return pw;
}

async function prompt(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(new RosterError('bad_input', 'cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}

/** The password from file, env or prompt; 'bad_input' when none can be had. */
export async function obtainPassword(file: string | undefined): Promise<string> {
  if (file !== undefined) return readPasswordFile(file);
  const env = process.env['ROSTER_BIND_PASSWORD'];
  if (env !== undefined && env !== '') return env;
  if (process.stdin.isTTY) {
    const pw = await prompt('bind password: ');
    if (pw === '') throw new RosterError('bad_input', 'empty bind password');
    return pw;
  }
  throw new RosterError('bad_input', 'no bind password: give --bind-password-file F or set ROSTER_BIND_PASSWORD');
}
