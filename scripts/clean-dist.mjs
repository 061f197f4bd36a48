// Removes the package's build output, so a renamed module never survives as a stale file.
import { rmSync } from 'node:fs';

for (const dir of ['dist', 'build']) rmSync(dir, { recursive: true, force: true });
