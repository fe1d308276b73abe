/**
 * JSON Patch (RFC 6902) over JSON Pointers (RFC 6901), applied to a copy of the current resource. Written here rather
 * than taken from @medplum/core's bundled rfc6902 because that one is lenient where RFC 6902 says "error" (array
 * indexes like `abc` or past the end, missing members) and we want every malformed patch to be a clear 400.
 * A failed `test` operation answers 422 (the patch is well-formed but its precondition does not hold).
 */
import { badRequest, OperationOutcomeError } from '@medplum/core';
import { unprocessable } from '@carecircle/fhir';
import type { PatchOperation } from './repository';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Container = Json[] | { [key: string]: Json };

const FORBIDDEN_MEMBERS = new Set(['__proto__', 'constructor', 'prototype']);

/** Applies `operations` in order to a deep copy of `document`; throws 400 (malformed) or 422 (failed test). */
export function applyJsonPatch(document: unknown, operations: readonly PatchOperation[]): unknown {
  if (!Array.isArray(operations)) {
    throw patchError('a JSON Patch is an array of operations');
  }
  let root = structuredClone(document) as Json;
  operations.forEach((operation, index) => {
    root = applyOperation(root, operation, index);
  });
  return root;
}

function applyOperation(root: Json, operation: PatchOperation, index: number): Json {
  if (typeof operation !== 'object' || operation === null || typeof operation.path !== 'string') {
    throw patchError(`operation ${index} needs a path`);
  }
  const path = parsePointer(operation.path, index);
  switch (operation.op) {
    case 'add':
      return add(root, path, requireValue(operation, index), index);
    case 'remove':
      return remove(root, path, index);
    case 'replace':
      requireExisting(root, path, index);
      return add(remove(root, path, index), path, requireValue(operation, index), index);
    case 'move': {
      const from = requireFrom(operation, index);
      if (path.length > from.length && from.every((t, i) => path[i] === t)) {
        throw patchError(`operation ${index} moves a value into itself`);
      }
      const value = requireExisting(root, from, index);
      return add(remove(root, from, index), path, value, index);
    }
    case 'copy': {
      const value = requireExisting(root, requireFrom(operation, index), index);
      return add(root, path, structuredClone(value), index);
    }
    case 'test': {
      const actual = requireExisting(root, path, index);
      if (!jsonEquals(actual, requireValue(operation, index))) {
        throw new OperationOutcomeError(unprocessable(`JSON Patch test failed (operation ${index})`));
      }
      return root;
    }
    default:
      throw patchError(`operation ${index} has an unknown op`);
  }
}

function parsePointer(pointer: string, index: number): string[] {
  if (pointer === '') {
    return [];
  }
  if (!pointer.startsWith('/') || /~[^01]|~$/.test(pointer)) {
    throw patchError(`operation ${index} has an invalid path`);
  }
  const tokens = pointer
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (tokens.some((t) => FORBIDDEN_MEMBERS.has(t))) {
    throw patchError(`operation ${index} has an invalid path`);
  }
  return tokens;
}

function requireValue(operation: PatchOperation, index: number): Json {
  if (!('value' in operation) || operation.value === undefined) {
    throw patchError(`operation ${index} needs a value`);
  }
  return structuredClone(operation.value) as Json;
}

function requireFrom(operation: PatchOperation, index: number): string[] {
  if (typeof operation.from !== 'string') {
    throw patchError(`operation ${index} needs from`);
  }
  return parsePointer(operation.from, index);
}

function isContainer(value: Json | undefined): value is Container {
  return typeof value === 'object' && value !== null;
}

/** The container holding the last token of `path`. */
function parentOf(root: Json, path: string[], index: number): Container {
  let node: Json | undefined = root;
  for (const token of path.slice(0, -1)) {
    node = isContainer(node) ? child(node, token) : undefined;
  }
  if (!isContainer(node)) {
    throw patchError(`operation ${index}: path not found`);
  }
  return node;
}

function child(container: Container, token: string): Json | undefined {
  if (Array.isArray(container)) {
    return /^(0|[1-9]\d*)$/.test(token) ? container[Number(token)] : undefined;
  }
  return Object.hasOwn(container, token) ? container[token] : undefined;
}

function requireExisting(root: Json, path: string[], index: number): Json {
  if (path.length === 0) {
    return root;
  }
  const value = child(parentOf(root, path, index), path.at(-1)!);
  if (value === undefined) {
    throw patchError(`operation ${index}: path not found`);
  }
  return value;
}

function add(root: Json, path: string[], value: Json, index: number): Json {
  if (path.length === 0) {
    return value;
  }
  const parent = parentOf(root, path, index);
  const token = path.at(-1)!;
  if (Array.isArray(parent)) {
    if (token === '-') {
      parent.push(value);
    } else if (/^(0|[1-9]\d*)$/.test(token) && Number(token) <= parent.length) {
      parent.splice(Number(token), 0, value);
    } else {
      throw patchError(`operation ${index}: invalid array index`);
    }
  } else {
    parent[token] = value;
  }
  return root;
}

function remove(root: Json, path: string[], index: number): Json {
  if (path.length === 0) {
    throw patchError(`operation ${index} cannot remove the whole resource`);
  }
  requireExisting(root, path, index);
  const parent = parentOf(root, path, index);
  const token = path.at(-1)!;
  if (Array.isArray(parent)) {
    parent.splice(Number(token), 1);
  } else {
    delete parent[token];
  }
  return root;
}

function jsonEquals(a: Json, b: Json): boolean {
  if (a === b) {
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEquals(v, b[i]!));
  }
  if (isContainer(a) && isContainer(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEquals(a[k]!, b[k]!));
  }
  return false;
}

function patchError(text: string): OperationOutcomeError {
  return new OperationOutcomeError(badRequest(`Invalid JSON Patch: ${text}`));
}
