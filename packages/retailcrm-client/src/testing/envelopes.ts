import { HttpResponse } from 'msw';

/** RetailCRM's error envelope: `{success:false, errorMsg, errors?}`. */
export function errorResponse(status: number, errorMsg: string, errors?: string[] | Record<string, string>): Response {
  return HttpResponse.json({ success: false, errorMsg, ...(errors ? { errors } : {}) }, { status });
}

export const notFound = () => errorResponse(404, 'Not found');
export const missingParameter = (name: string) => errorResponse(400, `Parameter '${name}' is missing`);
export const nonScalar = (name: string) => errorResponse(400, `Input value "${name}" contains a non-scalar value`);
export const inputErrors = (errors: Record<string, string> | string[]) =>
  errorResponse(400, 'Errors in the input parameters', errors);
export const entityErrors = (errors: Record<string, string> | string[]) =>
  errorResponse(400, 'Errors in the entity format', errors);

/** Over the per-key limit RetailCRM's front answers 503 with an HTML page (nginx limit_req). */
export function rateLimitedResponse(): Response {
  return new HttpResponse(
    '<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
    { status: 503, headers: { 'Content-Type': 'text/html' } },
  );
}

/** A subdomain with no account behind it: 405 and an HTML page. */
export function accountNotFoundResponse(): Response {
  return new HttpResponse(
    '<!DOCTYPE html><html><head><title>Account does not exist</title></head><body><h1>Account does not exist.</h1></body></html>',
    { status: 405, headers: { 'Content-Type': 'text/html; charset=UTF-8' } },
  );
}
