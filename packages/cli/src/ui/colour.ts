// Whether a stream gets colour, decided once from the environment and flags. chalk 5
// ignores NO_COLOR, so chalk's own detection is never used: each stream gets a Chalk
// built with the level decided here (NO_COLOR, FORCE_COLOR, --no-color, --json, TTY).

export interface ColourInputs {
  env: Record<string, string | undefined>;
  isTTY: boolean;
  noColorFlag: boolean;
  /** --json: machine output on stdout is never coloured. */
  machine: boolean;
}

/** chalk level: 0 none, 1 basic, 2 256 colours, 3 truecolor. */
export function colourLevel({ env, isTTY, noColorFlag, machine }: ColourInputs): 0 | 1 | 2 | 3 {
  if (machine || noColorFlag) return 0;
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return 0;
  const force = env['FORCE_COLOR'];
  if (force !== undefined) {
    if (force === '0' || force === 'false') return 0;
    if (force === '2') return 2;
    if (force === '3') return 3;
    return 1;
  }
  if (!isTTY || env['TERM'] === 'dumb') return 0;
  if (env['COLORTERM'] === 'truecolor' || env['COLORTERM'] === '24bit') return 3;
  return /-256(color)?$/.test(env['TERM'] ?? '') ? 2 : 1;
}
