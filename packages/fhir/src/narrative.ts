/**
 * The narrative rules of FHIR R4 (Narrative.div, invariants txt-1 and txt-2), which @medplum/core does not enforce
 * (its `htmlChecks()` always answers true). Narrative is shown to people by other systems, so a `<script>`, an event
 * handler or a `javascript:` link stored here would be stored cross-site scripting.
 *
 * `div` must be one well-formed XHTML element `<div xmlns="http://www.w3.org/1999/xhtml">` whose content uses only the
 * basic formatting elements and attributes FHIR allows (HTML 4.0 chapters 7-11 and 15, links, images, inline styles),
 * with some non-whitespace content. This is a strict allow-list check of that small subset, not an HTML parser: anything
 * it does not recognise is refused. Links may only be relative, fragments, or http(s)/mailto/tel; images also `data:`
 * raster images; styles may not load or run anything.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

const XHTML_NAMESPACE = 'http://www.w3.org/1999/xhtml';

/** Elements FHIR narrative may use (the list the HL7 reference validator accepts). */
const ELEMENTS: ReadonlySet<string> = new Set([
  'a', 'abbr', 'acronym', 'address', 'b', 'bdo', 'big', 'blockquote', 'br', 'caption', 'cite', 'code', 'col',
  'colgroup', 'dd', 'dfn', 'div', 'dl', 'dt', 'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'kbd', 'li',
  'ol', 'p', 'pre', 'q', 'samp', 'small', 'span', 'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th',
  'thead', 'tr', 'tt', 'ul', 'var',
]);

/** Attributes any element may carry. */
const GLOBAL_ATTRIBUTES: ReadonlySet<string> = new Set(['id', 'class', 'style', 'title', 'lang', 'xml:lang', 'dir', 'accesskey', 'tabindex']);

/** Further attributes, by element. */
const ELEMENT_ATTRIBUTES: Readonly<Record<string, ReadonlySet<string>>> = {
  a: new Set(['href', 'name', 'hreflang', 'rel', 'rev', 'charset', 'type', 'shape', 'coords']),
  img: new Set(['src', 'alt', 'longdesc', 'height', 'width', 'border', 'hspace', 'vspace', 'align']),
  blockquote: new Set(['cite']),
  q: new Set(['cite']),
  ol: new Set(['start', 'type', 'compact']),
  ul: new Set(['type', 'compact']),
  li: new Set(['value', 'type']),
  table: new Set(['summary', 'width', 'border', 'frame', 'rules', 'cellspacing', 'cellpadding', 'align', 'bgcolor']),
  ...Object.fromEntries(
    ['caption', 'col', 'colgroup', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr'].map((name) => [
      name,
      new Set(['span', 'width', 'align', 'valign', 'char', 'charoff', 'abbr', 'axis', 'headers', 'scope', 'rowspan', 'colspan', 'nowrap', 'bgcolor']),
    ]),
  ),
  p: new Set(['align']),
  div: new Set(['align']),
  hr: new Set(['align', 'noshade', 'size', 'width']),
  pre: new Set(['width']),
  bdo: new Set(['dir']),
};

/** Elements without content. */
const VOID_ELEMENTS: ReadonlySet<string> = new Set(['br', 'hr', 'img', 'col']);

const NAME = /^[A-Za-z][A-Za-z0-9]*(?::[A-Za-z][A-Za-z0-9]*)?/;
const ENTITY = /^&(?:#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/;
const URL_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const LINK_SCHEMES: ReadonlySet<string> = new Set(['http', 'https', 'mailto', 'tel']);
const IMAGE_DATA = /^data:image\/(?:png|gif|jpeg|jpg|webp|bmp);/i;
const UNSAFE_STYLE = /expression\s*\(|url\s*\(|@import|behavior\s*:|-moz-binding|javascript:|vbscript:/i;

/** Thrown inside the checker with what is wrong; becomes one issue. */
class NarrativeError extends Error {}

/**
 * The issues with a Narrative.div value at `path` (FHIRPath, e.g. `Patient.text.div`): none when it is well-formed,
 * allowed XHTML with some content.
 */
export function checkNarrativeDiv(div: string, path: string): OperationOutcomeIssue[] {
  try {
    new NarrativeReader(div).read();
    return [];
  } catch (err) {
    if (!(err instanceof NarrativeError)) {
      throw err;
    }
    return [
      {
        severity: 'error',
        code: 'invariant',
        details: { text: `Narrative is not allowed XHTML (txt-1, txt-2): ${err.message}` },
        expression: [path],
      },
    ];
  }
}

/** A single pass over the text: tags on a stack, every name and attribute against the allow-lists. */
class NarrativeReader {
  private pos = 0;
  private readonly open: string[] = [];
  private hasContent = false;
  private rootClosed = false;

  constructor(private readonly text: string) {}

  read(): void {
    this.skipWhitespace();
    if (!this.text.startsWith('<div', this.pos)) {
      throw new NarrativeError('must be a single <div> element in the XHTML namespace');
    }
    while (this.pos < this.text.length) {
      if (this.rootClosed) {
        this.skipWhitespace();
        if (this.pos < this.text.length) {
          throw new NarrativeError('content after the closing </div>');
        }
        break;
      }
      if (this.text.startsWith('<!--', this.pos)) {
        this.readComment();
      } else if (this.text.startsWith('</', this.pos)) {
        this.readEndTag();
      } else if (this.text.startsWith('<', this.pos)) {
        this.readStartTag();
      } else {
        this.readText();
      }
    }
    if (!this.rootClosed) {
      throw new NarrativeError('unclosed element');
    }
    if (!this.hasContent) {
      throw new NarrativeError('the narrative has no content');
    }
  }

  private readStartTag(): void {
    this.pos += 1;
    const name = this.readName();
    if (!ELEMENTS.has(name)) {
      throw new NarrativeError(`element <${safeName(name)}> is not allowed`);
    }
    const isRoot = this.open.length === 0;
    const attributes = new Map<string, string>();
    for (;;) {
      const hadSpace = this.skipWhitespace();
      if (this.text.startsWith('/>', this.pos)) {
        this.pos += 2;
        this.checkElement(name, attributes, isRoot);
        if (isRoot) {
          throw new NarrativeError('the narrative has no content');
        }
        return;
      }
      if (this.text.startsWith('>', this.pos)) {
        this.pos += 1;
        this.checkElement(name, attributes, isRoot);
        if (VOID_ELEMENTS.has(name)) {
          // XHTML: <br></br> is fine, <br> alone is not well-formed; require the end tag next.
          if (!this.text.startsWith(`</${name}`, this.pos)) {
            throw new NarrativeError(`<${name}> must be empty (<${name}/>)`);
          }
        }
        this.open.push(name);
        return;
      }
      if (!hadSpace) {
        throw new NarrativeError(`malformed tag <${name}>`);
      }
      const attribute = this.readName();
      this.skipWhitespace();
      if (this.text[this.pos] !== '=') {
        throw new NarrativeError(`attribute ${safeName(attribute)} needs a quoted value`);
      }
      this.pos += 1;
      this.skipWhitespace();
      const value = this.readAttributeValue();
      if (attributes.has(attribute)) {
        throw new NarrativeError(`attribute ${safeName(attribute)} appears twice`);
      }
      attributes.set(attribute, value);
    }
  }

  private checkElement(name: string, attributes: ReadonlyMap<string, string>, isRoot: boolean): void {
    if (isRoot && name !== 'div') {
      throw new NarrativeError('must be a single <div> element in the XHTML namespace');
    }
    if (name === 'img') {
      this.hasContent = true;
    }
    for (const [attribute, value] of attributes) {
      if (attribute === 'xmlns') {
        if (!isRoot || value !== XHTML_NAMESPACE) {
          throw new NarrativeError('xmlns is allowed only on the root <div>, as the XHTML namespace');
        }
        continue;
      }
      if (!GLOBAL_ATTRIBUTES.has(attribute) && !ELEMENT_ATTRIBUTES[name]?.has(attribute)) {
        throw new NarrativeError(`attribute ${safeName(attribute)} is not allowed on <${name}>`);
      }
      checkAttributeValue(name, attribute, value);
    }
    if (isRoot && attributes.get('xmlns') !== XHTML_NAMESPACE) {
      throw new NarrativeError(`the root <div> must declare xmlns="${XHTML_NAMESPACE}"`);
    }
  }

  private readEndTag(): void {
    this.pos += 2;
    const name = this.readName();
    this.skipWhitespace();
    if (this.text[this.pos] !== '>') {
      throw new NarrativeError(`malformed end tag </${safeName(name)}>`);
    }
    this.pos += 1;
    if (this.open.pop() !== name) {
      throw new NarrativeError(`end tag </${safeName(name)}> does not match its start tag`);
    }
    if (this.open.length === 0) {
      this.rootClosed = true;
    }
  }

  private readComment(): void {
    const end = this.text.indexOf('-->', this.pos + 4);
    if (end < 0 || this.text.slice(this.pos + 4, end).includes('--')) {
      throw new NarrativeError('malformed comment');
    }
    this.pos = end + 3;
  }

  private readText(): void {
    const next = this.text.indexOf('<', this.pos);
    const end = next < 0 ? this.text.length : next;
    const text = this.text.slice(this.pos, end);
    if (this.open.length === 0) {
      throw new NarrativeError('text outside the root <div>');
    }
    if (decodeEntities(text).trim() !== '') {
      this.hasContent = true;
    }
    if (text.includes(']]>')) {
      throw new NarrativeError('"]]>" is not allowed in text');
    }
    this.pos = end;
  }

  private readName(): string {
    const match = NAME.exec(this.text.slice(this.pos, this.pos + 80));
    if (!match) {
      throw new NarrativeError('malformed markup');
    }
    this.pos += match[0].length;
    return match[0];
  }

  private readAttributeValue(): string {
    const quote = this.text[this.pos];
    if (quote !== '"' && quote !== "'") {
      throw new NarrativeError('attribute values must be quoted');
    }
    const end = this.text.indexOf(quote, this.pos + 1);
    if (end < 0) {
      throw new NarrativeError('unterminated attribute value');
    }
    const raw = this.text.slice(this.pos + 1, end);
    if (raw.includes('<')) {
      throw new NarrativeError('"<" is not allowed in attribute values');
    }
    this.pos = end + 1;
    return decodeEntities(raw);
  }

  private skipWhitespace(): boolean {
    const start = this.pos;
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] ?? '')) {
      this.pos += 1;
    }
    return this.pos > start;
  }
}

/** `&` must start a well-formed reference; numeric references are decoded, named ones become a space. */
function decodeEntities(text: string): string {
  let result = '';
  for (let i = 0; i < text.length; ) {
    if (text[i] !== '&') {
      result += text[i];
      i += 1;
      continue;
    }
    const match = ENTITY.exec(text.slice(i, i + 40));
    if (!match) {
      throw new NarrativeError('"&" must start a character or entity reference');
    }
    const body = match[0].slice(1, -1);
    result += decodeReference(body);
    i += match[0].length;
  }
  return result;
}

function decodeReference(body: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  if (body.startsWith('#')) {
    const code = body[1] === 'x' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
    if (!Number.isFinite(code) || code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      throw new NarrativeError('invalid character reference');
    }
    return String.fromCodePoint(code);
  }
  // Other named entities (HTML's &nbsp; ...) stand for one printable character; a space is enough for these checks.
  return named[body] ?? ' ';
}

/** Links, image sources and styles must not run or load anything but the allowed kinds of address. */
function checkAttributeValue(element: string, attribute: string, value: string): void {
  if (attribute.startsWith('on')) {
    throw new NarrativeError('event handler attributes are not allowed');
  }
  if (attribute === 'href' || attribute === 'src' || attribute === 'longdesc' || attribute === 'cite') {
    // Browsers ignore control characters and whitespace inside a scheme ("java\tscript:"), so compare without them.
    const compact = [...value].filter((c) => c > ' ' && c !== '\u007f').join('');
    const scheme = URL_SCHEME.exec(compact)?.[1]?.toLowerCase();
    const allowed =
      scheme === undefined || LINK_SCHEMES.has(scheme) || (element === 'img' && attribute === 'src' && IMAGE_DATA.test(compact));
    if (!allowed) {
      throw new NarrativeError(`<${element} ${attribute}> may not use the ${safeName(scheme ?? '')}: scheme`);
    }
  }
  if (attribute === 'style' && UNSAFE_STYLE.test(value.replace(/\\/g, ''))) {
    throw new NarrativeError('style may not load or run anything (url(), expression(), @import ...)');
  }
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9:]/g, '').slice(0, 32);
}
