/**
 * What an operation is, as the registry (operation-registry.ts) holds it: its resource type, name, level
 * (`GET Type/$name` or `GET Type/{id}/$name`), the parameters it defines, and its handler, which gets its arguments
 * already read against those parameters and capabilities (operation-context.ts), never the database.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { OperationContext } from './operation-context';
import type { OperationArguments, OperationParameters } from './operation-parameters';

interface OperationBase<P extends OperationParameters> {
  readonly resourceType: string;
  /** Without the `$`. */
  readonly name: string;
  readonly parameters: P;
  /**
   * `POST` for an operation that changes state (its arguments a Parameters body); `GET` (the default) for one that only
   * reads (its arguments the query). Called with the other method, it answers 405.
   */
  readonly method?: 'GET' | 'POST';
}

/** `GET [type]/$name`. */
export interface TypeOperation<P extends OperationParameters = OperationParameters> extends OperationBase<P> {
  readonly level: 'type';
  invoke(context: OperationContext, args: OperationArguments<P>): Promise<Resource>;
}

/** `GET [type]/[id]/$name`. */
export interface InstanceOperation<P extends OperationParameters = OperationParameters> extends OperationBase<P> {
  readonly level: 'instance';
  invoke(context: OperationContext, args: OperationArguments<P>, id: string): Promise<Resource>;
}

export type FhirOperation = TypeOperation | InstanceOperation;

/** Declares an operation, typing its handler's arguments by its parameters. */
export function defineOperation<P extends OperationParameters>(operation: TypeOperation<P> | InstanceOperation<P>): FhirOperation {
  return operation as FhirOperation;
}
