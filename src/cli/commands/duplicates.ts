/** `roster duplicates` — (issue 4, being written). */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

export function register(_program: Command, _ctx: CliContext): void {}
