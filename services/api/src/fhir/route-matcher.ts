/**
 * Matching a path below the FHIR base against a declared route table (method + pattern -> handler), as
 * @medplum/fhir-router's URL router does: patterns are compiled once into a tree of segments, and a path is walked
 * through it. The table itself is in fhir-routes.ts; this module only knows patterns.
 *
 * A pattern is segments joined by `/`: a word (`_history`, `Subscription`, `$status`) matches itself; `:name` matches
 * any segment; `$:name` matches any segment starting with `$` (captured without it). At each segment a word is tried
 * first, then a `$:` parameter, then a `:` parameter, so the most specific pattern wins; a word or `$:` branch that
 * leads nowhere gives way to the `:` parameter. A `:` parameter is the last resort, and its check (declared with the
 * table) runs as soon as it takes a segment, whatever follows: it throws the path's error there, as FHIR reads it (an
 * unknown resource type is 404 naming it, an invalid id 400), before the method is looked at. A path with more
 * segments left than any pattern below a point holds matches nothing there. No pattern: 404. A pattern without a
 * route for the method: 405.
 */
import { fail, methodNotAllowed, unknownEndpoint } from '@carecircle/fhir';
import type { FhirMethod } from './fhir-request';

/** One declared route: `pattern` relative to the FHIR base, without leading slash (`''` is the base itself). */
export interface Route<H> {
  method: FhirMethod;
  pattern: string;
  handler: H;
}

/** Checks a `:name` parameter's segment on entry, throwing the path's error when it is not one. */
export type ParameterCheck = (segment: string) => void;

/** A route found for a request, with the values its pattern's parameters captured. */
export interface RouteMatch<H> {
  handler: H;
  params: Readonly<Record<string, string>>;
}

interface Node<H> {
  /** Segments of the longest pattern below this node. */
  depth: number;
  words: Map<string, Node<H>>;
  operation?: { name: string; node: Node<H> };
  parameter?: { name: string; node: Node<H> };
  handlers: Map<FhirMethod, H>;
}

/** A compiled route table. */
export interface RouteTable<H> {
  /** The route for `method` and `path` (segments split on `/`, empty ones ignored); throws 404, 405 or a check's error. */
  match(method: FhirMethod, path: string): RouteMatch<H>;
}

/** Compiles `routes`; `checks` holds the check of each `:name` parameter that has one. */
export function compileRoutes<H>(routes: readonly Route<H>[], checks: Readonly<Record<string, ParameterCheck>> = {}): RouteTable<H> {
  const root = emptyNode<H>();
  for (const route of routes) {
    const segments = splitPath(route.pattern);
    const node = segments.reduce((parent, segment, index) => {
      parent.depth = Math.max(parent.depth, segments.length - index);
      return addSegment(parent, segment);
    }, root);
    if (node.handlers.has(route.method)) {
      throw new Error(`Route declared twice: ${route.method} ${route.pattern}`);
    }
    node.handlers.set(route.method, route.handler);
  }
  return {
    match(method, path) {
      const found = walk(root, splitPath(path), 0, {}, checks);
      if (!found) {
        return fail(unknownEndpoint());
      }
      const handler = found.node.handlers.get(method);
      if (handler === undefined) {
        return fail(methodNotAllowed());
      }
      return { handler, params: found.params };
    },
  };
}

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

function emptyNode<H>(): Node<H> {
  return { depth: 0, words: new Map(), handlers: new Map() };
}

function addSegment<H>(node: Node<H>, segment: string): Node<H> {
  if (segment.startsWith('$:')) {
    node.operation ??= { name: segment.slice(2), node: emptyNode() };
    return sameName(node.operation, segment.slice(2)).node;
  }
  if (segment.startsWith(':')) {
    node.parameter ??= { name: segment.slice(1), node: emptyNode() };
    return sameName(node.parameter, segment.slice(1)).node;
  }
  let next = node.words.get(segment);
  if (!next) {
    next = emptyNode();
    node.words.set(segment, next);
  }
  return next;
}

/** Two patterns may share a parameter's position only under one name (the tree has one branch for it). */
function sameName<T extends { name: string }>(branch: T, name: string): T {
  if (branch.name !== name) {
    throw new Error(`Parameters :${branch.name} and :${name} at the same position`);
  }
  return branch;
}

interface Found<H> {
  node: Node<H>;
  params: Record<string, string>;
}

function walk<H>(
  node: Node<H>,
  segments: readonly string[],
  index: number,
  params: Record<string, string>,
  checks: Readonly<Record<string, ParameterCheck>>,
): Found<H> | undefined {
  if (index === segments.length) {
    return node.handlers.size > 0 ? { node, params } : undefined;
  }
  const segment = segments[index] as string;
  // More segments left than the longest pattern below holds: nothing here can match, whatever they are.
  const fits = segments.length - index <= node.depth;
  const word = fits ? node.words.get(segment) : undefined;
  const byWord = word && walk(word, segments, index + 1, params, checks);
  if (byWord) {
    return byWord;
  }
  if (fits && node.operation && segment.startsWith('$')) {
    const { name, node: next } = node.operation;
    const byOperation = walk(next, segments, index + 1, { ...params, [name]: segment.slice(1) }, checks);
    if (byOperation) {
      return byOperation;
    }
  }
  if (!node.parameter) {
    return undefined;
  }
  // A parameter checks its segment whatever follows (a path under an unknown type is 404 naming it, however long).
  const { name, node: next } = node.parameter;
  checks[name]?.(segment);
  return fits ? walk(next, segments, index + 1, { ...params, [name]: segment }, checks) : undefined;
}
