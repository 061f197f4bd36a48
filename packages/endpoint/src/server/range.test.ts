import { describe, expect, it } from 'vitest';
import { answerRange } from './range.js';

const etag = '"abc"';

describe('answerRange', () => {
  it('sends the whole file without a Range', () => {
    expect(answerRange(undefined, undefined, etag, 100)).toEqual({ kind: 'full' });
  });

  it('sends the rest of the file from an offset, the usual resume', () => {
    expect(answerRange('bytes=40-', etag, etag, 100)).toEqual({ kind: 'partial', start: 40, end: 99 });
    expect(answerRange('bytes=40-49', undefined, etag, 100)).toEqual({ kind: 'partial', start: 40, end: 49 });
    expect(answerRange('bytes=90-200', undefined, etag, 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(answerRange('bytes=-10', undefined, etag, 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
  });

  it('sends the whole file when If-Range names another version', () => {
    expect(answerRange('bytes=40-', '"other"', etag, 100)).toEqual({ kind: 'full' });
  });

  it('is unsatisfiable from or past the end', () => {
    expect(answerRange('bytes=100-', undefined, etag, 100)).toEqual({ kind: 'unsatisfiable' });
    expect(answerRange('bytes=-0', undefined, etag, 100)).toEqual({ kind: 'unsatisfiable' });
  });

  it('ignores several ranges and syntax it does not understand', () => {
    for (const range of ['bytes=0-1,5-6', 'items=0-5', 'bytes=5-2', 'bytes=-', 'bytes=x-'])
      expect(answerRange(range, undefined, etag, 100), range).toEqual({ kind: 'full' });
  });
});
