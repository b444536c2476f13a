// The form body of a request, read once: kept as `req.body`, which oidc-provider parses instead of
// the stream (so a middleware here may read a form that the provider reads after it).
export async function readBody(req, limit = 56 * 1024) {
  if (typeof req.body === 'string') return req.body;
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new Error('request entity too large');
  }
  req.body = body;
  return body;
}
