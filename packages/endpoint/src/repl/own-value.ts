// Reading what REPL input produced without running its code.
import { types } from 'node:util';

/**
 * An own data property of something REPL input produced, read without running the
 * input's code (a getter, a Proxy trap): undefined for anything else.
 */
export function ownValue(thing: unknown, key: string): unknown {
  if (typeof thing !== 'object' || thing === null || types.isProxy(thing)) return undefined;
  const descriptor = Object.getOwnPropertyDescriptor(thing, key);
  return descriptor !== undefined && 'value' in descriptor ? descriptor.value : undefined;
}
