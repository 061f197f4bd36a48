/** The JSON values of an NDJSON body, one per line, as they arrive. */
export async function* ndjsonLines<T>(body: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  let buffer = '';
  for await (const chunk of body) {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (text !== '') yield JSON.parse(text) as T;
    }
  }
}
