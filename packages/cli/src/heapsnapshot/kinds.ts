// The node and edge types the retainer analysis tells apart, as indexes into the
// header's type lists. Looked up by name, never by position (V8 has added types before);
// -1 stands for a type this snapshot's V8 does not have.
import type { SnapshotHeader } from './header.js';

export interface EdgeKinds {
  readonly context: number;
  readonly element: number;
  readonly property: number;
  readonly internal: number;
  readonly hidden: number;
  readonly shortcut: number;
  readonly weak: number;
}

interface NodeKinds {
  readonly array: number;
  readonly string: number;
  readonly number: number;
  readonly synthetic: number;
  readonly consString: number;
  readonly slicedString: number;
}

export interface Kinds {
  readonly edge: EdgeKinds;
  readonly node: NodeKinds;
}

export function kindsOf(header: SnapshotHeader): Kinds {
  const edge = (name: string) => header.edgeTypes.indexOf(name);
  const node = (name: string) => header.nodeTypes.indexOf(name);
  return {
    edge: {
      context: edge('context'),
      element: edge('element'),
      property: edge('property'),
      internal: edge('internal'),
      hidden: edge('hidden'),
      shortcut: edge('shortcut'),
      weak: edge('weak'),
    },
    node: {
      array: node('array'),
      string: node('string'),
      number: node('number'),
      synthetic: node('synthetic'),
      consString: node('concatenated string'),
      slicedString: node('sliced string'),
    },
  };
}

/** Element and hidden edges carry an index, not a string, in name_or_index. */
export function isIndexEdge(kinds: EdgeKinds, type: number): boolean {
  return type === kinds.element || type === kinds.hidden;
}
