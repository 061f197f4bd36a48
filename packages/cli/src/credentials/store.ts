// Where tokens are kept. A context names its store: the OS keychain through keytar
// (the default), or an explicit, mode-0600 file for machines without one.
import type { CredentialKind } from '../config.js';

export interface CredentialStore {
  readonly kind: CredentialKind;
  /** For messages: "the OS keychain" or the file's path. */
  readonly description: string;
  get(context: string): Promise<string | null>;
  set(context: string, token: string): Promise<void>;
  delete(context: string): Promise<boolean>;
}
