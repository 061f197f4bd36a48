import { parseEndpointJson } from '../ui/sanitize.js';

/** The JSON values of an NDJSON body from the endpoint, one per line, as they arrive, its strings made safe to print. */
export async function* ndjsonLines<T>(body: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  let buffer = '';
  for await (const chunk of body) {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (text !== '') yield parseEndpointJson<T>(text);
    }
  }
}
