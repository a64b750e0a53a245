/**
 * Request and response objects born with Express's prototypes. Express gives every req and res its own
 * prototype (Object.setPrototypeOf(req, app.request)) when it starts handling them; changing the
 * prototype of a live object changes its hidden class, so property reads in every middleware miss
 * V8's inline caches and fall back to slow lookups (about a quarter of backend's CPU per search on
 * the bench box). Built with that prototype from the start, Express's Object.setPrototypeOf becomes a
 * no-op. The objects are still IncomingMessage and ServerResponse in every respect (constructor, chain,
 * instanceof); only the prototype they start with differs.
 */
import { IncomingMessage, ServerResponse, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Express } from 'express';

export function serverClasses(app: Express): Pick<ServerOptions, 'IncomingMessage' | 'ServerResponse'> {
  function AppRequest(this: IncomingMessage, socket: Socket) {
    IncomingMessage.call(this, socket);
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: ServerResponse, req: IncomingMessage, options?: unknown) {
    (
      ServerResponse as unknown as (this: ServerResponse, req: IncomingMessage, options?: unknown) => void
    ).call(this, req, options);
  }
  AppResponse.prototype = app.response;
  return {
    IncomingMessage: AppRequest as unknown as typeof IncomingMessage,
    ServerResponse: AppResponse as unknown as typeof ServerResponse,
  };
}
