// Removes the package's dist/ so a renamed module never survives as a stale file.
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
