/**
 * The portal's routes as a list (method and path), read from the Express router itself, so a test can hold every
 * route to a rule (another client's ids answer 404; no route without a signed-in client but the front door) and
 * notice a route added without a rule.
 */
import type { Router } from 'express';

export interface PortalRoute {
  readonly method: string;
  readonly path: string;
}

interface RouterLayer {
  readonly route?: { readonly path: string | string[]; readonly methods: Record<string, boolean> };
  readonly handle?: { readonly stack?: readonly RouterLayer[] };
  readonly rawPath?: string | string[];
}

/** Every route under `router` (routers mounted without a path included), in registration order. */
export function listRoutes(router: Router, prefix = ''): PortalRoute[] {
  const stack = (router as unknown as { stack: readonly RouterLayer[] }).stack;
  return stack.flatMap((layer): PortalRoute[] => {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      return paths.flatMap((path) =>
        Object.keys(layer.route?.methods ?? {})
          .filter((m) => m !== '_all')
          .map((method) => ({ method: method.toUpperCase(), path: `${prefix}${path}` })),
      );
    }
    const nested = layer.handle?.stack;
    if (nested && (layer.rawPath === undefined || layer.rawPath === '/')) {
      return listRoutes(layer.handle as unknown as Router, prefix);
    }
    return [];
  });
}
