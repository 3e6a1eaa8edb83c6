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

/** An http-errors style error (body parsers, the router's param decoding): a 4xx the client caused. */
function clientFault(err: unknown): [number, string, string] | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { status?: unknown; statusCode?: unknown; name?: unknown; code?: unknown; type?: unknown };
  const status = typeof e.status === 'number' ? e.status : e.statusCode;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  if (e.name === 'URIError') return [400, 'invalid_path_encoding', 'the path is not valid percent-encoding'];
  if (e.type === 'querystring.parse.rangeError') {
    return [400, 'too_deep', 'the form body is nested too deeply or has too many parameters'];
  }
  if (typeof e.code === 'string' && /^(Z_|ERR__ERROR_FORMAT|ERR_)/.test(e.code)) {
    return [400, 'invalid_content_encoding', 'the body does not match its Content-Encoding'];
  }
  return [status, 'bad_request', 'the request is malformed'];
}

/**
 * SQLSTATE class 22 (data exception: a value the column type cannot hold, e.g. a date past year 9999 or a
 * number out of range) is the client's input, never a server fault.
 */
function isDataException(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}

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
    } else if (clientFault(err)) {
      [status, code, message] = clientFault(err) as [number, string, string];
    } else if (isDataException(err)) {
      status = 400;
      code = 'invalid_input';
      message = 'a value is out of range or not valid for its type';
    }
    if (status >= 500) logger.error({ err, method: req.method, path: req.path }, 'request failed');
    if (res.headersSent) return;
    res.status(status).json({ ok: false, error: code, message, ...(details ? { details } : {}) });
  };
}
