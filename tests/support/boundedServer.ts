// The loopback server the stand-ins share lives with the local tenant now, which serves the same handlers over HTTPS.
export { BodyTooLarge, type BoundedServer, type Handler, listenBounded, readBody, sendJson } from "../../local/http";
