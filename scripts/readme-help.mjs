// Keeps the README's command reference equal to the real --help output.
//   node scripts/readme-help.mjs          rewrite the blocks in README.md
//   node scripts/readme-help.mjs --check  exit 1 and show the first difference if any block is stale
// A block is `<!-- help: ARGS -->`, a fenced text block, `<!-- /help -->`; it holds
// the output of `opsctl ARGS --help` (80 columns, no colour). Every command's help
// repeats the global options; the README shows them once, in the block of `opsctl
// --help`, and leaves the "Global Options:" section out of the others.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
const bin = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const BLOCK = /<!-- help: ?(.*?) -->\n```text\n[\s\S]*?```\n<!-- \/help -->/g;

const GLOBAL_SECTION = /\nGlobal Options:\n(?:  .*\n)+/;

const help = (args) => {
  const text = execFileSync(process.execPath, [bin, ...args.split(' ').filter(Boolean), '--help'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', COLUMNS: '80' } }).trimEnd();
  return args.trim() === '' ? text : text.replace(GLOBAL_SECTION, '');
};

const current = readFileSync(readme, 'utf8');
const updated = current.replace(BLOCK, (_, args) => `<!-- help: ${args} -->\n\`\`\`text\n${help(args)}\n\`\`\`\n<!-- /help -->`);

if (process.argv.includes('--check')) {
  if (updated !== current) {
    const a = current.split('\n');
    const b = updated.split('\n');
    const line = a.findIndex((text, i) => text !== b[i]);
    console.error(`README.md command reference is stale at line ${line + 1}:\n  README: ${a[line]}\n  --help: ${b[line]}\nrun: node scripts/readme-help.mjs`);
    process.exit(1);
  }
} else {
  writeFileSync(readme, updated);
}
