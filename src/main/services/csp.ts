/**
 * The renderer's Content Security Policy, the same for `pollard serve` and the Electron app;
 * only `connect-src` differs (the browser also talks to the server's WebSocket).
 * 'unsafe-inline' styles: Svelte and Chart.js set inline style attributes; scripts stay 'self'.
 */
export function contentSecurityPolicy(extraConnectSources: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "img-src 'self' data: blob:",
    "style-src 'self' 'unsafe-inline'",
    `connect-src ${["'self'", ...extraConnectSources].join(' ')}`,
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
