// `opsctl --version` and `--help` stay fast: they must not load the HTTP client, the
// spinner or the keychain. A copy of the CLI without the chunks that hold them proves it.
import { afterAll, describe, expect, it } from 'vitest';
import { cliCopyWithout, opsctl } from './support/processes.js';

const copy = cliCopyWithout(['undici', 'ora', 'chalk', 'keytar']);
afterAll(() => copy.remove());

describe('opsctl start-up', () => {
  it('prints --version and --help with none of undici, ora, chalk or keytar installed', async () => {
    const version = await opsctl(['--version'], { bin: copy.bin });
    expect(version.stderr).toBe('');
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = await opsctl(['--help'], { bin: copy.bin });
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('heapdump');
  });

  it('is a copy that really lacks them: a command that reaches a target cannot load', async () => {
    const status = await opsctl(['status'], { bin: copy.bin, env: { OPSCTL_URL: 'http://127.0.0.1:9', OPSCTL_TOKEN: 'x' } });
    expect(status.code).not.toBe(0);
    expect(status.stderr).toMatch(/ERR_MODULE_NOT_FOUND/);
  });
});
