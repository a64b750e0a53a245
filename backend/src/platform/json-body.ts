/**
 * express.json with a short path for the request every API client sends: Content-Type exactly
 * "application/json" (optionally "; charset=utf-8"), a Content-Length within the limit, no
 * Content-Encoding. That request is read and parsed here with the same outcome as body-parser (UTF-8
 * with a BOM dropped, an empty body as {}, only objects and arrays at the top level, errors carrying
 * body-parser's status and type for errorHandler); anything else (other types and charsets, compressed
 * or chunked bodies, a length over the limit) goes to express.json itself. body-parser's per-request
 * content-type parsing, charset lookup, decoder and raw-body bookkeeping showed as about 5% of
 * backend's CPU per search. test/json-body.test.ts runs both on the same requests.
 */
import express, { type RequestHandler } from 'express';

/** What errorHandler reads from a body-parser error: status and type. */
class BodyError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const WS = new Set([' ', '\t', '\n', '\r']);

function parseStrict(text: string): unknown {
  if (text.length === 0) return {};
  let i = 0;
  while (i < text.length && WS.has(text[i])) i++;
  if (text[i] !== '{' && text[i] !== '[') throw new BodyError(400, 'entity.parse.failed', 'JSON body must be an object or an array');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BodyError(400, 'entity.parse.failed', (err as Error).message);
  }
}

export function jsonBody(limitBytes: number): RequestHandler {
  const general = express.json({ limit: limitBytes });
  return (req, res, next) => {
    const h = req.headers;
    const type = h['content-type'];
    const length = h['content-length'];
    if (
      (type !== 'application/json' && type !== 'application/json; charset=utf-8') ||
      length === undefined ||
      Number(length) > limitBytes ||
      h['content-encoding'] !== undefined ||
      h['transfer-encoding'] !== undefined ||
      req.complete
    ) {
      return general(req, res, next);
    }
    req.body = undefined;
    const chunks: Buffer[] = [];
    let settled = false;
    const fail = () => {
      if (settled) return;
      settled = true;
      next(new BodyError(400, 'request.aborted', 'request aborted'));
    };
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', fail);
    req.on('close', fail);
    req.on('end', () => {
      if (settled) return;
      settled = true;
      let text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8');
      // As iconv-lite's UTF-8 decoder in body-parser: a leading byte order mark is not content.
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      try {
        req.body = parseStrict(text);
      } catch (err) {
        return next(err);
      }
      next();
    });
  };
}
