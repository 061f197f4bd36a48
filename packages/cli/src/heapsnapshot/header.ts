// The `snapshot` object at the head of a .heapsnapshot file: the field lists that give
// the flat `nodes` and `edges` arrays their meaning, and the counts that say how long
// they must be. Field positions are looked up by name, never assumed: Node 24's V8
// dropped `trace_node_id` from node_fields, older ones lack `detachedness`.
import { HeapSnapshotError } from './errors.js';

export interface SnapshotHeader {
  readonly nodeFields: readonly string[];
  /** The names behind a node's `type` field (hidden, array, string, object, code, closure…). */
  readonly nodeTypes: readonly string[];
  readonly edgeFields: readonly string[];
  readonly edgeTypes: readonly string[];
  readonly nodeCount: number;
  readonly edgeCount: number;
  /** Positions of the node fields this module reads, in nodeFields. */
  readonly nodeField: { readonly type: number; readonly name: number; readonly id: number; readonly selfSize: number; readonly edgeCount: number };
  /** Positions of the edge fields this module reads, in edgeFields. */
  readonly edgeField: { readonly type: number; readonly name: number; readonly toNode: number };
  /** The object as written, for what this module does not interpret (meta.location_fields, extra_native_bytes…). */
  readonly raw: Readonly<Record<string, unknown>>;
}

// A node's type is stored in a Uint8Array; V8 has 16 types.
const MAX_NODE_TYPES = 256;

/** Checks the parsed `snapshot` object; throws HEAPSNAPSHOT_MALFORMED naming the first problem. */
export function readHeader(value: unknown, offset: number): SnapshotHeader {
  const bad = (what: string): HeapSnapshotError => new HeapSnapshotError('HEAPSNAPSHOT_MALFORMED', `the snapshot header is not usable: ${what}`, offset);
  if (!isRecord(value)) throw bad('"snapshot" is not an object');
  const meta = value['meta'];
  if (!isRecord(meta)) throw bad('it has no "meta" object');
  const nodeFields = stringList(meta['node_fields']);
  const edgeFields = stringList(meta['edge_fields']);
  if (nodeFields === null) throw bad('meta.node_fields is not a list of names');
  if (edgeFields === null) throw bad('meta.edge_fields is not a list of names');
  const field = (fields: readonly string[], name: string, list: string): number => {
    const at = fields.indexOf(name);
    if (at === -1) throw bad(`${list} lacks "${name}"`);
    return at;
  };
  const nodeField = {
    type: field(nodeFields, 'type', 'meta.node_fields'),
    name: field(nodeFields, 'name', 'meta.node_fields'),
    id: field(nodeFields, 'id', 'meta.node_fields'),
    selfSize: field(nodeFields, 'self_size', 'meta.node_fields'),
    edgeCount: field(nodeFields, 'edge_count', 'meta.node_fields'),
  };
  const edgeField = {
    type: field(edgeFields, 'type', 'meta.edge_fields'),
    name: field(edgeFields, 'name_or_index', 'meta.edge_fields'),
    toNode: field(edgeFields, 'to_node', 'meta.edge_fields'),
  };
  const nodeTypes = Array.isArray(meta['node_types']) ? stringList(meta['node_types'][nodeField.type]) : null;
  const edgeTypes = Array.isArray(meta['edge_types']) ? stringList(meta['edge_types'][edgeField.type]) : null;
  if (nodeTypes === null || nodeTypes.length > MAX_NODE_TYPES) throw bad('meta.node_types does not list the node types');
  if (edgeTypes === null) throw bad('meta.edge_types does not list the edge types');
  const nodeCount = value['node_count'];
  const edgeCount = value['edge_count'];
  if (!isCount(nodeCount)) throw bad('node_count is not a non-negative integer');
  if (!isCount(edgeCount)) throw bad('edge_count is not a non-negative integer');
  return { nodeFields, nodeTypes, edgeFields, edgeTypes, nodeCount, edgeCount, nodeField, edgeField, raw: value };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown): string[] | null {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : null;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
