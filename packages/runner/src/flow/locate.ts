import { isAlias, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';
import { where } from '../json/yaml.js';

/** A path into a document: mapping keys and sequence indexes. */
export type DocPath = readonly (string | number)[];

/** `file:line:column` of the node at a document path (of its nearest existing ancestor). */
export type Locator = (path: DocPath) => string;

/** A locator over a parsed YAML document, using the node ranges the `yaml` package keeps. */
export function yamlLocator(doc: Document.Parsed, file: string): Locator {
  return (path) => {
    let node: unknown = doc.contents;
    let found: Node | undefined = isNode(node) ? node : undefined;
    for (const segment of path) {
      if (isAlias(node)) node = node.resolve(doc);
      let next: unknown;
      if (isMap(node) && typeof segment === 'string') {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
        // A key without a value (`input:`) points at its key.
        next = pair ? (isNode(pair.value) ? pair.value : pair.key) : undefined;
      } else if (isSeq(node) && typeof segment === 'number') next = node.items[segment];
      if (!isNode(next)) break;
      node = next;
      found = next;
    }
    return found ? where(doc, file, found) : file;
  };
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'range' in value;
}
