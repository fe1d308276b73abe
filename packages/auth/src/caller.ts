/**
 * Who is calling: the identity an access token (or the admin token) establishes, before any policy is applied.
 */

/** `Organization/{id}` */
export type OrganizationReference = `Organization/${string}`;

/** What every token caller carries besides its identity. */
interface TokenGrant {
  /** Granted scopes, space separated. */
  scope: string;
  /** The purposes of use (v3-ActReason) the token was issued for, when its client named any. */
  purposes?: readonly string[];
  /** The id (jti) of the access token that established the caller, which its disclosure AuditEvents name. */
  tokenId?: string;
}

export type Caller =
  /** The operator, with the admin token: full access, every use audited. */
  | { kind: 'admin' }
  /** A backend system (SMART Backend Services client) acting for its organization. */
  | ({ kind: 'system'; clientId: string; organization: OrganizationReference } & TokenGrant)
  /** A practitioner logged in through a registered app. */
  | ({
      kind: 'practitioner';
      clientId: string;
      userId: string;
      fhirUser: `Practitioner/${string}`;
      organization: OrganizationReference;
    } & TokenGrant)
  /** A client (patient) logged in through a registered app. */
  | ({ kind: 'patient'; clientId: string; userId: string; fhirUser: `Patient/${string}` } & TokenGrant);

/**
 * A short, PHI-free description for logs and audit: kind and ids only (client id, user id, organization), never a
 * name, never the fhirUser (a Patient id in a log line says whose record was opened).
 */
export function describeCaller(caller: Caller): Record<string, string> {
  switch (caller.kind) {
    case 'admin':
      return { caller: 'admin' };
    case 'system':
      return { caller: 'system', clientId: caller.clientId, organization: caller.organization };
    case 'practitioner':
      return { caller: 'practitioner', clientId: caller.clientId, userId: caller.userId, organization: caller.organization };
    case 'patient':
      return { caller: 'patient', clientId: caller.clientId, userId: caller.userId };
    default:
      return caller satisfies never;
  }
}
