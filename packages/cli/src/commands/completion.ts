// opsctl completion bash|zsh|fish: a completion script built from the commander
// definitions, so it never drifts from the real commands. The script holds the whole
// tree (commands, subcommands, flags, which flags take a value), so completing runs no
// opsctl process; values complete as file names where a flag takes a path, and as the
// known contexts for --context and `context use|show|remove|logout`.
import type { Command } from 'commander';
import type { Context } from '../context.js';

export type Shell = 'bash' | 'zsh' | 'fish';

interface Node {
  /** Words to this command from the root: "" for opsctl itself, "context use". */
  path: string;
  commands: { name: string; description: string }[];
  flags: string[];
}

export function runCompletion(shell: Shell, program: Command, ctx: Context): string {
  const nodes = walk(program, '');
  const valued = [
    ...new Set(
      walkCommands(program).flatMap((command) =>
        command.options
          .filter((o) => o.required || o.optional)
          .flatMap((o) => [o.long, o.short])
          .filter((f): f is string => f !== undefined),
      ),
    ),
  ].sort();
  const script = shell === 'bash' ? bash(nodes, valued) : shell === 'zsh' ? zsh(nodes, valued) : fish(nodes, valued);
  ctx.out.data(script);
  return script;
}

function walkCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(walkCommands)];
}

function walk(command: Command, path: string): Node[] {
  const visible = command.commands;
  const inherited = ancestors(command).flatMap((c) => c.options);
  const flags = [...command.options, ...inherited]
    .filter((o) => !o.hidden)
    .flatMap((o) => [o.long, o.short])
    .filter((f): f is string => f !== undefined);
  const node: Node = {
    path,
    commands: visible.map((sub) => ({ name: sub.name(), description: sub.description() })),
    flags: [...new Set([...flags, '--help'])].sort(),
  };
  return [node, ...visible.flatMap((sub) => walk(sub, path === '' ? sub.name() : `${path} ${sub.name()}`))];
}

function ancestors(command: Command): Command[] {
  const list: Command[] = [];
  for (let parent = command.parent; parent; parent = parent.parent) list.push(parent);
  return list;
}

/** Flags whose value is a path: complete file names. */
const PATH_FLAGS = ['--out', '-o', '--ca', '--keep', '--junit'];
/** Commands whose argument is a context name. */
const CONTEXT_ARGUMENT = ['context use', 'context show', 'context remove', 'context rm', 'logout'];

// The known context names, from `opsctl context list --json`, without jq: names are letters, digits and . _ - : [ ].
const LIST_CONTEXTS = `opsctl context list --json 2>/dev/null | sed -n 's/^ *"name": "\\(.*\\)",$/\\1/p'`;

function quote(words: readonly string[]): string {
  return words.join(' ');
}

function bash(nodes: Node[], valued: string[]): string {
  const cases = nodes.map((n) => `    "${n.path}") words="${quote([...n.commands.map((c) => c.name), ...n.flags])}" ;;`).join('\n');
  const children = nodes.map((n) => `    "${n.path}") echo "${quote(n.commands.map((c) => c.name))}" ;;`).join('\n');
  return `# opsctl completion for bash. Load it with: source <(opsctl completion bash)
__opsctl_children() {
  case "$1" in
${children}
  esac
}
__opsctl_words() {
  local words=""
  case "$1" in
${cases}
  esac
  echo "$words"
}
_opsctl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case " ${quote(valued)} " in *" $word "*) i=$((i + 1)); continue ;; esac
    case " $(__opsctl_children "$path") " in *" $word "*) path="\${path:+$path }$word" ;; esac
  done
  case "$prev" in
    ${PATH_FLAGS.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --context) COMPREPLY=($(compgen -W "$(${LIST_CONTEXTS})" -- "$cur")); return ;;
  esac
  case " ${quote(valued)} " in *" $prev "*) COMPREPLY=(); return ;; esac
  case "$path" in
    ${CONTEXT_ARGUMENT.map((p) => `"${p}"`).join('|')}) [[ "$cur" != -* ]] && { COMPREPLY=($(compgen -W "$(${LIST_CONTEXTS})" -- "$cur")); return; } ;;
  esac
  if [[ "$cur" != -* && -z "$(__opsctl_children "$path")" ]]; then COMPREPLY=($(compgen -f -- "$cur")); return; fi
  COMPREPLY=($(compgen -W "$(__opsctl_words "$path")" -- "$cur"))
}
complete -o filenames -F _opsctl opsctl
`;
}

function zsh(nodes: Node[], valued: string[]): string {
  const cases = nodes
    .map((n) => `    "${n.path}") reply=(${[...n.commands.map((c) => zshWord(c.name, c.description)), ...n.flags.map((f) => `'${f}'`)].join(' ')}) ;;`)
    .join('\n');
  const children = nodes.map((n) => `    "${n.path}") reply=(${n.commands.map((c) => c.name).join(' ')}) ;;`).join('\n');
  return `#compdef opsctl
# opsctl completion for zsh. Load it with: source <(opsctl completion zsh), or save it
# as _opsctl in a directory of $fpath.
__opsctl_children() {
  case "$1" in
${children}
  esac
}
__opsctl_words() {
  case "$1" in
${cases}
  esac
}
_opsctl() {
  local path="" word i prev="\${words[CURRENT-1]}"
  local -a reply valued
  valued=(${valued.join(' ')})
  for ((i = 2; i < CURRENT; i++)); do
    word="\${words[i]}"
    if (( \${valued[(Ie)$word]} )); then (( i++ )); continue; fi
    reply=(); __opsctl_children "$path"
    if (( \${reply[(Ie)$word]} )); then path="\${path:+$path }$word"; fi
  done
  case "$prev" in
    ${PATH_FLAGS.join('|')}) _files; return ;;
    --context) compadd -- \${(f)"$(${LIST_CONTEXTS})"}; return ;;
  esac
  if (( \${valued[(Ie)$prev]} )); then return; fi
  case "$path" in
    ${CONTEXT_ARGUMENT.map((p) => `"${p}"`).join('|')}) [[ "$PREFIX" != -* ]] && { compadd -- \${(f)"$(${LIST_CONTEXTS})"}; return; } ;;
  esac
  reply=(); __opsctl_children "$path"
  if [[ "$PREFIX" != -* && \${#reply} -eq 0 ]]; then _files; return; fi
  reply=(); __opsctl_words "$path"
  _describe 'opsctl' reply
}
if (( $+functions[compdef] )); then compdef _opsctl opsctl; fi
`;
}

function zshWord(name: string, description: string): string {
  return `'${name}:${description.replace(/'/g, "'\\''").replace(/:/g, '\\:')}'`;
}

function fish(nodes: Node[], valued: string[]): string {
  const lines = [
    '# opsctl completion for fish. Load it with: opsctl completion fish | source',
    'function __opsctl_path',
    '    set -l path ""',
    '    set -l skip 0',
    '    for word in (commandline -opc)[2..-1]',
    '        if test $skip -eq 1; set skip 0; continue; end',
    `        if contains -- $word ${valued.join(' ')}; set skip 1; continue; end`,
    '        switch "$path"',
    ...nodes
      .filter((n) => n.commands.length > 0)
      .flatMap((n) => [
        `            case "${n.path}"`,
        `                if contains -- $word ${n.commands.map((c) => c.name).join(' ')}; set path (string trim -- "$path $word"); end`,
      ]),
    '        end',
    '    end',
    '    echo $path',
    'end',
    'function __opsctl_contexts',
    `    ${LIST_CONTEXTS}`,
    'end',
    'complete -c opsctl -f',
    `complete -c opsctl -n 'contains -- (commandline -opc)[-1] ${PATH_FLAGS.join(' ')}' -F`,
    `complete -c opsctl -n 'test (commandline -opc)[-1] = --context' -a '(__opsctl_contexts)'`,
    ...CONTEXT_ARGUMENT.map((p) => `complete -c opsctl -n 'test (__opsctl_path) = "${p}"' -a '(__opsctl_contexts)'`),
  ];
  for (const node of nodes) {
    const condition = `test (__opsctl_path) = "${node.path}"`;
    for (const command of node.commands) lines.push(`complete -c opsctl -n '${condition}' -a ${command.name} -d '${command.description.replace(/'/g, "\\'")}'`);
    for (const flag of node.flags) {
      lines.push(
        flag.startsWith('--') ? `complete -c opsctl -n '${condition}' -l ${flag.slice(2)}` : `complete -c opsctl -n '${condition}' -s ${flag.slice(1)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
