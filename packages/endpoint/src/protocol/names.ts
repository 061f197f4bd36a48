// What names and ids on the wire look like, for both sides: the endpoint refuses others,
// and the CLI refuses them before asking (a usage error, not a request).

/** An action's name: 1-64 letters, digits, ".", "_" or "-", from a letter or digit; safe as a URL path segment and a shell word. */
export const ACTION_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * What the router matches a route's `:name` segment against (`/snapshots/:id`): 1-128
 * letters, digits, ".", "_" or "-", never "." or "..", never an encoded slash. A captured
 * snapshot's id given in a path must have this shape.
 */
export const PATH_SEGMENT_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/;

/** A captured heap snapshot's id, `<UTC stamp>-<rule>-<6 hex>`: sorts by time, says why, and never collides within a second. */
export const CAPTURE_ID_PATTERN = /^\d{8}T\d{6}Z-[a-z-]+-[0-9a-f]{6}$/;
