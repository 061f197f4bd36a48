import { instanceIdentity } from '../instance.js';

/** `<app>@<host>[<pid>]> `: which process a session is in, on every line. */
export function promptFor(app: string): string {
  return `${app}@${instanceIdentity.host}[${instanceIdentity.pid}]> `;
}
