/**
 * The parameters an operation defines, and reading them from a GET's query as strictly as a search reads its own
 * (store search-request.ts): a parameter the operation does not define is a 400 naming it, one that does not repeat
 * given twice is a 400 naming it (never silently read as its first value), and text the database could not hold is a
 * 400. `_format` and `_pretty` shape the response only and are left to the HTTP layer. What the values mean is the
 * operation's to check.
 */
import { badRequest, fail, hasUnstorableCharacters, safeForMessage } from '@carecircle/fhir';

const RESPONSE_FORMAT_PARAMETERS: ReadonlySet<string> = new Set(['_format', '_pretty']);

/** One input parameter of an operation (OperationDefinition.parameter, `use` in). */
export interface OperationParameter {
  /** FHIR type of its value, as the OperationDefinition names it. */
  readonly type: 'string' | 'code' | 'id' | 'integer' | 'Reference';
  /** True when it may be given more than once (max `*`); otherwise at most once. */
  readonly repeats?: true;
}

/** The parameters of an operation, by name, in the order its OperationDefinition lists them. */
export type OperationParameters = Readonly<Record<string, OperationParameter>>;

/** The values given for `P`: each parameter's value, or all of them for one that repeats. */
export type OperationArguments<P extends OperationParameters> = {
  readonly [K in keyof P]?: P[K] extends { repeats: true } ? readonly string[] : string;
};

/**
 * The arguments of operation `$name` in `params`; throws a 400 OperationOutcome for a parameter it does not define,
 * a repeated one that does not repeat, or one holding NUL or an unpaired surrogate.
 */
export function readOperationArguments<P extends OperationParameters>(name: string, parameters: P, params: URLSearchParams): OperationArguments<P> {
  const names = Object.keys(parameters);
  const values: Record<string, string[]> = {};
  for (const [given, value] of params) {
    if (RESPONSE_FORMAT_PARAMETERS.has(given)) {
      continue;
    }
    const parameter = parameters[given];
    if (parameter === undefined) {
      const defined = names.length > 0 ? `it takes ${names.join(', ')}` : 'it takes none';
      fail(badRequest(`Unknown parameter for $${name}: ${safeForMessage(given)} (${defined})`, safeForMessage(given)));
    }
    const earlier = (values[given] ??= []);
    if (earlier.length > 0 && !parameter.repeats) {
      fail(badRequest(`${given} may appear only once`, given));
    }
    if (hasUnstorableCharacters(value)) {
      fail(badRequest(`${given} may not contain NUL or unpaired surrogate characters`, given));
    }
    earlier.push(value);
  }
  return Object.fromEntries(
    Object.entries(values).map(([given, all]) => [given, parameters[given]?.repeats ? all : all[0]]),
  ) as OperationArguments<P>;
}
