/**
 * SMART on FHIR scopes: parsing (v2 `patient|user|system/<Type|*>.<cruds>`, v1 `.read/.write/.*` accepted), the
 * intersection of what a client asks for with what it may have, and the question every interaction asks: does this
 * scope set permit permission P on resource type T?
 *
 * Granular v2 scopes with a query (`patient/Observation.rs?category=...`) are not supported and are dropped rather than
 * widened, so a client never gets more than it asked for.
 */
import type { Interaction } from '@carecircle/store';

/** The launch context a resource scope applies in. */
export type ScopeContext = 'patient' | 'user' | 'system';

/** SMART v2 permissions, in their canonical order. */
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

const PERMISSION_ORDER: readonly Permission[] = ['c', 'r', 'u', 'd', 's'];

/** The non-resource scopes this server understands. */
export const IDENTITY_SCOPES = ['openid', 'fhirUser', 'launch', 'launch/patient', 'offline_access', 'online_access'] as const;
export type IdentityScope = (typeof IDENTITY_SCOPES)[number];

export interface ResourceScope {
  readonly context: ScopeContext;
  /** A resource type, or `*` for all. */
  readonly resourceType: string;
  /** Non-empty, in `cruds` order. */
  readonly permissions: readonly Permission[];
}

export interface ScopeSet {
  readonly resources: readonly ResourceScope[];
  readonly identity: ReadonlySet<IdentityScope>;
}

const RESOURCE_SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{0,63})\.([a-z*]+)$/;
const V2_PERMISSIONS = /^c?r?u?d?s?$/;
const identitySet = new Set<string>(IDENTITY_SCOPES);

/** Parses one scope token; undefined for anything unsupported or malformed. */
function parseResourceScope(token: string): ResourceScope | undefined {
  const match = RESOURCE_SCOPE.exec(token);
  if (!match) {
    return undefined;
  }
  const [, context, resourceType, access] = match as unknown as [string, ScopeContext, string, string];
  let permissions: Permission[];
  switch (access) {
    case 'read':
      permissions = ['r', 's'];
      break;
    case 'write':
      permissions = ['c', 'u', 'd'];
      break;
    case '*':
      permissions = [...PERMISSION_ORDER];
      break;
    default:
      if (access.length === 0 || !V2_PERMISSIONS.test(access)) {
        return undefined;
      }
      permissions = [...access] as Permission[];
  }
  return { context, resourceType, permissions };
}

/** Parses a space-separated scope string; unknown or malformed tokens are dropped. */
export function parseScopes(scope: string): ScopeSet {
  const resources: ResourceScope[] = [];
  const identity = new Set<IdentityScope>();
  for (const token of scope.split(/\s+/)) {
    if (token === '') {
      continue;
    }
    if (identitySet.has(token)) {
      identity.add(token as IdentityScope);
      continue;
    }
    const parsed = parseResourceScope(token);
    if (parsed) {
      resources.push(parsed);
    }
  }
  return { resources: mergeResourceScopes(resources), identity };
}

/** One scope per (context, type), permissions united, in first-seen order. */
function mergeResourceScopes(scopes: readonly ResourceScope[]): ResourceScope[] {
  const merged = new Map<string, { context: ScopeContext; resourceType: string; permissions: Set<Permission> }>();
  for (const s of scopes) {
    const key = `${s.context}/${s.resourceType}`;
    const entry = merged.get(key) ?? { context: s.context, resourceType: s.resourceType, permissions: new Set() };
    s.permissions.forEach((p) => entry.permissions.add(p));
    merged.set(key, entry);
  }
  return [...merged.values()].map((e) => ({
    context: e.context,
    resourceType: e.resourceType,
    permissions: PERMISSION_ORDER.filter((p) => e.permissions.has(p)),
  }));
}

/** The canonical SMART v2 text of a scope set (identity scopes first, then resource scopes). */
export function formatScopes(scopes: ScopeSet): string {
  const identity = IDENTITY_SCOPES.filter((s) => scopes.identity.has(s));
  const resources = scopes.resources.map((s) => `${s.context}/${s.resourceType}.${s.permissions.join('')}`);
  return [...identity, ...resources].join(' ');
}

export interface IntersectOptions {
  /** Resource scope contexts the grant may contain (e.g. only `system` for a backend service). */
  readonly contexts: readonly ScopeContext[];
  /** Identity scopes the grant may contain whether or not they are registered. */
  readonly identity: readonly IdentityScope[];
}

/**
 * What to grant when a client asks for `requested` and is registered for `registered`: every requested resource
 * scope cut down to the registered ones covering it (a requested `*` becomes the registered types), in the allowed
 * contexts only, plus the requested identity scopes allowed by `options`. Never more than either side.
 */
export function intersectScopes(requested: ScopeSet, registered: ScopeSet, options: IntersectOptions): ScopeSet {
  const granted: ResourceScope[] = [];
  for (const want of requested.resources) {
    if (!options.contexts.includes(want.context)) {
      continue;
    }
    for (const have of registered.resources) {
      if (have.context !== want.context) {
        continue;
      }
      if (want.resourceType !== '*' && have.resourceType !== '*' && want.resourceType !== have.resourceType) {
        continue;
      }
      const resourceType = want.resourceType === '*' ? have.resourceType : want.resourceType;
      const permissions = want.permissions.filter((p) => have.permissions.includes(p));
      if (permissions.length > 0) {
        granted.push({ context: want.context, resourceType, permissions });
      }
    }
  }
  const identity = new Set<IdentityScope>(
    [...requested.identity].filter((s) => options.identity.includes(s) || registered.identity.has(s)),
  );
  return { resources: mergeResourceScopes(granted), identity };
}

/** The permission an interaction needs. History is reading (of versions), so it needs `r`. */
export function permissionFor(interaction: Interaction): Permission {
  switch (interaction) {
    case 'read':
    case 'vread':
    case 'history':
      return 'r';
    case 'search':
      return 's';
    case 'create':
      return 'c';
    case 'update':
    case 'patch':
      return 'u';
    case 'delete':
      return 'd';
    default:
      return interaction satisfies never;
  }
}

/**
 * True when some scope in `contexts` grants `permission` on `resourceType`. A `resourceType` of `*` (a search or
 * history across all types) needs a wildcard scope.
 */
export function scopesPermit(
  scopes: ScopeSet,
  contexts: readonly ScopeContext[],
  permission: Permission,
  resourceType: string,
): boolean {
  return scopes.resources.some(
    (s) =>
      contexts.includes(s.context) &&
      (s.resourceType === '*' || s.resourceType === resourceType) &&
      s.permissions.includes(permission),
  );
}

/**
 * What a scope refusal says (contract: a 403 names the scope that is missing): the interaction, the type, and the
 * scopes that would allow it in the caller's contexts, e.g. "This token's scopes do not allow create on Subscription:
 * it needs system/Subscription.c (or system/*.c)". Names only the type and the permission, never a resource.
 */
export function missingScopeText(interaction: Interaction, resourceType: string, contexts: readonly ScopeContext[]): string {
  const permission = permissionFor(interaction);
  const target = resourceType === '*' ? 'all resource types' : resourceType;
  const needed = contexts.map((context) => `${context}/${resourceType}.${permission}`);
  const wildcards = resourceType === '*' ? [] : contexts.map((context) => `${context}/*.${permission}`);
  const [first, ...others] = [...needed, ...wildcards];
  const alternatives = others.length > 0 ? ` (or ${others.join(', ')})` : '';
  return (
    `This token's scopes do not allow ${interaction} on ${target}: it needs ${first ?? ''}${alternatives}. ` +
    'Request that scope in the token request; the client must be registered with it'
  );
}
