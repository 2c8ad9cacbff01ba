/** Structured JSON logs (pino): one logger per service, child loggers per component. */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(service: string, level: string = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ name: service, level, base: { service } });
}
