/**
 * Requests Node's HTTP parser refuses before Express sees them (headers or URL beyond its 16 KiB limit, malformed
 * request lines, requests that time out) are answered here, with an OperationOutcome like every other error instead
 * of Node's empty body.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** Node's own choice of status for a parser error, as its default handler makes it. */
function statusFor(code: string | undefined): { status: number; reason: string; text: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'Request Header Fields Too Large', text: 'Request line or headers too large (the URL and headers may be at most 16 KiB)' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, reason: 'Payload Too Large', text: 'Chunk extensions too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', text: 'Request timeout' };
    default:
      return { status: 400, reason: 'Bad Request', text: 'Malformed HTTP request' };
  }
}

/** Answers `server`'s client errors with an OperationOutcome (and closes the connection, as Node does). */
export function answerClientErrors(server: Server): void {
  server.on('clientError', function answerClientError(err: NodeJS.ErrnoException, socket: Duplex) {
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const { status, reason, text } = statusFor(err.code);
    const body = JSON.stringify({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: status === 408 ? 'timeout' : status === 400 ? 'structure' : 'too-costly', details: { text } }],
    });
    socket.end(
      [
        `HTTP/1.1 ${status} ${reason}`,
        `Content-Type: ${FHIR_JSON}`,
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Cache-Control: no-store',
        'X-Content-Type-Options: nosniff',
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  });
}
