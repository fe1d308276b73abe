/**
 * Who is calling: the identity an access token (or the admin token) establishes, before any policy is applied.
 */

/** `Organization/{id}` */
export type OrganizationReference = `Organization/${string}`;

export type Caller =
  /** The operator, with the admin token: full access, every use audited. */
  | { kind: 'admin' }
  /** A backend system (SMART Backend Services client) acting for its organization. */
  | { kind: 'system'; clientId: string; organization: OrganizationReference; scope: string }
  /** A practitioner logged in through a registered app. */
  | {
      kind: 'practitioner';
      clientId: string;
      userId: string;
      fhirUser: `Practitioner/${string}`;
      organization: OrganizationReference;
      scope: string;
    }
  /** A client (patient) logged in through a registered app. */
  | { kind: 'patient'; clientId: string; userId: string; fhirUser: `Patient/${string}`; scope: string };

/** A short, PHI-free description for logs and audit: kind and ids only. */
export function describeCaller(caller: Caller): Record<string, string> {
  switch (caller.kind) {
    case 'admin':
      return { caller: 'admin' };
    case 'system':
      return { caller: 'system', clientId: caller.clientId };
    case 'practitioner':
    case 'patient':
      return { caller: caller.kind, clientId: caller.clientId, userId: caller.userId };
    default:
      return caller satisfies never;
  }
}
