/** Who is calling: set on the request by authenticate (auth.middleware.ts), read by routes and guards. */
export type Scope = 'search' | 'patterns' | 'jobs';

export interface AuthInfo {
  userId: string;
  role: 'user' | 'admin';
  via: 'cookie' | 'token';
  sessionId?: string;
  /** The API token's id (via 'token'): its searches are counted per token too. */
  tokenId?: string;
  scopes?: Scope[];
}

declare module 'express-serve-static-core' {
  interface Request {
    auth?: AuthInfo;
  }
}
