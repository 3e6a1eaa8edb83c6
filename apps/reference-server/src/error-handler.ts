import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { HttpError } from './errors.js';
import { ExtensionConflictError } from './retailcrm/extensions.js';
import { SecretDecryptError } from './secret-box.js';
import { EnterpriseNotFoundError } from './storage/sql-storage.js';

interface BodyParserError {
  type: string;
  status?: number;
}

const bodyParserErrors: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'invalid_json', 'request body is not valid JSON'],
  'entity.too.large': [413, 'payload_too_large', 'request body is too large'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'unsupported content encoding'],
  'charset.unsupported': [415, 'unsupported_charset', 'unsupported charset'],
  'request.aborted': [400, 'request_aborted', 'request aborted'],
  'request.size.invalid': [400, 'invalid_body_size', 'request size did not match content-length'],
  'parameters.too.many': [413, 'too_many_parameters', 'too many form parameters'],
};

function isBodyParserError(err: unknown): err is BodyParserError {
  return typeof err === 'object' && err !== null && typeof (err as BodyParserError).type === 'string';
}

/** Maps every error to `{ok:false, error, message}`; only a genuine bug is a 500 (and is logged). */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let status = 500;
    let code = 'internal_error';
    let message = 'internal server error';
    let details: unknown;
    if (err instanceof HttpError) {
      ({ status, code, message, details } = err);
    } else if (err instanceof ZodError) {
      status = 422;
      code = 'validation_failed';
      message = err.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      details = err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    } else if (err instanceof ExtensionConflictError) {
      status = 422;
      code = err.code;
      message = err.message;
    } else if (err instanceof EnterpriseNotFoundError) {
      status = 404;
      code = 'not_found';
      message = err.message;
    } else if (err instanceof SecretDecryptError) {
      status = 500;
      code = err.code;
      message = err.message;
    } else if (isBodyParserError(err) && bodyParserErrors[err.type]) {
      [status, code, message] = bodyParserErrors[err.type] as [number, string, string];
    }
    if (status >= 500) logger.error({ err, method: req.method, path: req.path }, 'request failed');
    if (res.headersSent) return;
    res.status(status).json({ ok: false, error: code, message, ...(details ? { details } : {}) });
  };
}
