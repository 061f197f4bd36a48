// Query parameter parsing for routes: a bad value is an Error naming the parameter,
// which the route answers with 400 BAD_PARAM.

/** `name` as a boolean: absent → false; true/false/1/0 → the value; anything else → Error. */
export function booleanParam(query: URLSearchParams, name: string): boolean | Error {
  const value = query.get(name);
  if (value === null) return false;
  if (value === 'true' || value === '1' || value === '') return true;
  if (value === 'false' || value === '0') return false;
  return new Error(`The parameter ${name} must be true or false, not "${value.slice(0, 40)}".`);
}

/** `name` as a number within [min, max]; absent → fallback. */
export function numberParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number | Error {
  const value = query.get(name);
  if (value === null) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    return new Error(`The parameter ${name} must be a number from ${min} to ${max}, not "${value.slice(0, 40)}".`);
  }
  return n;
}

/** Whether an Accept-Encoding header accepts gzip (and does not refuse it with q=0). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';');
    if (coding.trim() !== 'gzip' && coding.trim() !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
