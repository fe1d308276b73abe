/**
 * Structured JSON logs. Every line carries what happened (request id, interaction, status, timing), never who it was
 * about: no names, no resource bodies, no search strings. Callers pass ids and codes only.
 */
import pino from 'pino';

export type Logger = pino.Logger;

/** Creates the process logger at the given level (`silent` in tests unless LOG_LEVEL says otherwise). */
export function createLogger(level: string, bindings: Record<string, string> = {}): Logger {
  return pino({
    level,
    base: { service: 'carecircle', ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Defence in depth: should a credential-bearing field ever reach a log call, it is masked.
    redact: {
      paths: ['authorization', 'password', 'token', 'secret', '*.authorization', '*.password', '*.token', '*.secret'],
      censor: '[redacted]',
    },
    formatters: { level: (label) => ({ level: label }) },
  });
}
