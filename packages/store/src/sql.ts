/**
 * A tiny parameterised-SQL builder: `sql` tagged templates compose into one statement with numbered placeholders, so
 * no value is ever spliced into SQL text. Access policies hand the repository their conditions as `Sql` fragments.
 */

/** A piece of SQL and its parameter values, with `$n` placeholders assigned only when rendered. */
export class Sql {
  constructor(
    readonly strings: readonly string[],
    readonly values: readonly unknown[],
  ) {}

  /** Renders to `pg`/PGlite form: text with `$1..$n` and the matching value array. */
  render(): { text: string; values: unknown[] } {
    const values: unknown[] = [];
    const text = renderInto(this, values);
    return { text, values };
  }
}

function renderInto(fragment: Sql, values: unknown[]): string {
  let text = fragment.strings[0] ?? '';
  fragment.values.forEach((value, i) => {
    if (value instanceof Sql) {
      text += renderInto(value, values);
    } else {
      values.push(value);
      text += `$${values.length}`;
    }
    text += fragment.strings[i + 1] ?? '';
  });
  return text;
}

/** Tagged template: interpolated `Sql` fragments are inlined, every other value becomes a parameter. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  return new Sql([...strings], values);
}

/** Raw SQL text for identifiers and keywords chosen by our own code, never by a caller. */
export function raw(text: string): Sql {
  return new Sql([text], []);
}

/** Joins fragments with a separator (`, `, ` AND ` ...); an empty list renders as `empty`. */
export function join(fragments: readonly Sql[], separator: string, empty = ''): Sql {
  if (fragments.length === 0) {
    return raw(empty);
  }
  const strings = [''];
  for (let i = 1; i < fragments.length; i++) {
    strings.push(separator);
  }
  strings.push('');
  return new Sql(strings, fragments);
}
