/**
 * The typed interface through which access policies compose their conditions over the row `rv` (a resource_version
 * row) without writing SQL (issue 16): conjunction, disjunction, negation, the constants, and the Patient compartment a
 * row is in. A policy hands the result to the store as its visibility; the store puts it inside every read's statement.
 */
import { join, sql, type Sql } from './sql';

/** Every one of `conditions` holds (TRUE for none). */
export function allOf(...conditions: readonly Sql[]): Sql {
  return sql`(${join(conditions.map((condition) => sql`(${condition})`), ' AND ', 'TRUE')})`;
}

/** `condition` does not hold (NULL, unknown, stays NULL and so refuses as FALSE does). */
export function not(condition: Sql): Sql {
  return sql`(NOT (${condition}))`;
}

/** The row is in the Patient compartment of `patient` (`Patient/{id}`). */
export function inPatientCompartment(patient: string): Sql {
  return sql`rv.compartments @> ARRAY[${patient}::text]`;
}

/** Some one of `conditions` holds (FALSE for none). */
export function anyOf(...conditions: readonly Sql[]): Sql {
  return sql`(${join(conditions.map((condition) => sql`(${condition})`), ' OR ', 'FALSE')})`;
}

/**
 * Some one of `conditions` holds (FALSE for none), each written as it comes: for conditions that are each one term
 * already (parenthesised, or a constant), whose disjunction statements have been planned with as such.
 */
export function anyOfTerms(conditions: readonly Sql[]): Sql {
  return sql`(${join(conditions, ' OR ', 'FALSE')})`;
}

/** `condition` does not hold or is unknown (NULL): TRUE exactly where `condition` is not TRUE. */
export function notTrue(condition: Sql): Sql {
  return sql`(${condition}) IS NOT TRUE`;
}

/** Holds of every row. */
export function always(): Sql {
  return sql`TRUE`;
}

/** Holds of no row. */
export function never(): Sql {
  return sql`FALSE`;
}
