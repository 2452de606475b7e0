// Names the API stack's two edges share, and that other stacks and the tests import (through api-stack.ts).

/** Header Cloudflare adds (Transform Rule) to every WebSocket upgrade it forwards to the origin. */
export const ORIGIN_SECRET_HEADER = 'X-Cirrus-Origin-Secret';
/** The one stage of the REST API and of the WebSocket API. */
export const API_STAGE_NAME = 'live';

/** POWERTOOLS_SERVICE_NAME of a REST function (its Powertools metrics' `service` dimension), e.g. `api-trading`. */
export const apiServiceName = (name: string): string => `api-${name.toLowerCase()}`;
