/** Shows only that a key was present and its last 4 characters (when long enough to stay unguessable). */
export function maskApiKey(apiKey: string | undefined | null): string {
  if (!apiKey) return '';
  return apiKey.length >= 16 ? `***${apiKey.slice(-4)}` : '***';
}

/** Replaces every occurrence of the secret in `text` (servers sometimes echo parameters back). */
export function redactSecret(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join('***');
}
