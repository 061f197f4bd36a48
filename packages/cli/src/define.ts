// What a command's registration (commands/<name>.command.ts) needs beside commander: the
// Runner that builds the command's context when it runs, and the Examples section every
// command's help ends with (test/help.test.ts requires one).
import type { Command } from 'commander';
import type { Context } from './context.js';

/** Runs a command module's function with the context built for the command. */
export type Runner = <A extends unknown[]>(fn: (ctx: Context, ...args: A) => Promise<unknown>) => (...args: [...A, Command]) => Promise<void>;

export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => (line.startsWith('#') ? `  ${line}` : `  $ ${line}`)).join('\n')}`;
}
