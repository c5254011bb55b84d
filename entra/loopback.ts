/**
 * True for hosts that can only be this machine (127.0.0.0/8, localhost, [::1]): the one case where a URL that
 * carries a secret or trusted keys may be plain http, for local stand-ins of Entra ID and the gateway.
 */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** Why a URL may not receive a secret or a token: unparseable, or plain http to a host other than this machine. */
export function insecureUrlFault(value: string): "not-a-url" | "not-https" | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "not-a-url";
  }
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname))
    ? undefined
    : "not-https";
}

/** As {@link insecureUrlFault}, and an authority host is the origin alone: no tenant, path, query or credentials. */
export function authorityHostFault(value: string): "not-a-url" | "not-https" | "not-host-alone" | undefined {
  const fault = insecureUrlFault(value);
  if (fault) return fault;
  const url = new URL(value);
  const hostAlone =
    url.pathname.replace(/\/+$/, "") === "" && !url.search && !url.hash && !url.username && !url.password;
  return hostAlone ? undefined : "not-host-alone";
}
