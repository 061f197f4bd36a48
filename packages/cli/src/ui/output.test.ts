import { describe, expect, it } from 'vitest';
import { CliError } from '../errors.js';
import { Output } from './output.js';

function capture(json: boolean): { out: Output; stdout: () => string; stderr: () => string } {
  let stdout = '';
  let stderr = '';
  const out = new Output({
    stdout: {
      write: (text: string) => {
        stdout += text;
        return true;
      },
      isTTY: false,
    },
    stderr: {
      write: (text: string) => {
        stderr += text;
        return true;
      },
      isTTY: false,
    },
    env: {},
    json,
    noColor: true,
    verbose: false,
  });
  return { out, stdout: () => stdout, stderr: () => stderr };
}

describe('Output.error', () => {
  it('with --json, also prints the error as one JSON line on stdout, with its code and hint', () => {
    const { out, stdout, stderr } = capture(true);
    out.error(new CliError('UNREACHABLE', 'connection refused by 127.0.0.1:1', { hint: 'is the application running?' }));
    expect(JSON.parse(stdout())).toEqual({ error: { code: 'UNREACHABLE', message: 'connection refused by 127.0.0.1:1', hint: 'is the application running?' } });
    expect(stderr()).toBe('error: connection refused by 127.0.0.1:1\nhint: is the application running?\n');
  });

  it('adds nothing to stdout when the result was printed there already', () => {
    const { out, stdout } = capture(true);
    out.result({ ok: false }, () => '');
    out.error(new CliError('CHECK_FAILED', '1 check failed: leaks'));
    expect(JSON.parse(stdout())).toEqual({ ok: false });
  });

  it('without --json, keeps stdout for results only', () => {
    const { out, stdout } = capture(false);
    out.error(new CliError('USAGE', 'no code on stdin'));
    expect(stdout()).toBe('');
  });
});
