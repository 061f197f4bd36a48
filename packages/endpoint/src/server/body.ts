// Reading a JSON request body within the size limit. Oversized bodies are refused from
// Content-Length before a byte is read, or as soon as the stream passes the limit.
import type { IncomingMessage } from 'node:http';
import type { ErrorCode } from '../protocol/index.js';

export type BodyResult = { ok: true; value: unknown } | { ok: false; code: ErrorCode; message: string };

/** Whether the request announces a body (a length other than 0, or chunked). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<BodyResult> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return { ok: false, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'The request body must be JSON (Content-Type: application/json).' };
  }
  const tooLarge = { ok: false, code: 'BODY_TOO_LARGE', message: `The request body is larger than the limit of ${limitBytes} bytes.` } as const;
  if (Number(req.headers['content-length'] ?? 0) > limitBytes) return tooLarge;
  // Listeners rather than `for await`: leaving that loop early destroys the request,
  // and with it the socket the 413 must still be written to.
  const text = await new Promise<string | null>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limitBytes) return void chunks.push(chunk);
      req.off('data', onData).off('end', onEnd).off('error', reject);
      req.pause(); // the caller answers 413 with Connection: close; the rest is never read
      resolve(null);
    };
    const onEnd = () => resolve(Buffer.concat(chunks).toString('utf8'));
    req.on('data', onData).once('end', onEnd).once('error', reject);
  });
  if (text === null) return tooLarge;
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, code: 'BAD_BODY', message: 'The request body is not valid JSON.' };
  }
}
