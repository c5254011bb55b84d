/**
 * True for hosts that can only be this machine (127.0.0.0/8, localhost, [::1]): the one case where a URL that
 * carries a secret or trusted keys may be plain http, for local stand-ins of Entra ID and the gateway.
 */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}
