import { type RequestOptions, segment, type Transport } from "../transport.js";
import type { ListOptions, Page } from "../types.js";

/** The three calls every top-level collection has: create, list, get. */
export interface Collection<Item, Input, Created = Item, Query extends ListOptions = ListOptions> {
  /** `POST <collection>`: creates one, sent with an Idempotency-Key so a retry never creates twice. */
  create(input: Input, options?: RequestOptions): Promise<Created>;
  /** `GET <collection>`: one page, newest first, with `pagination`. */
  list(query?: Query, options?: RequestOptions): Promise<Page<Item>>;
  /** `GET <collection>/:id` */
  get(id: string, options?: RequestOptions): Promise<Item>;
}

/** The create, list and get calls of the collection at `path`. */
export function collection<Item, Input, Created = Item, Query extends ListOptions = ListOptions>(
  transport: Transport,
  path: string,
): Collection<Item, Input, Created, Query> {
  return {
    create: (input, options) => transport.request({ method: "POST", path, body: input, creates: true }, options),
    list: (query, options) => transport.request({ method: "GET", path, query: { ...query } }, options),
    get: (id, options) => transport.request({ method: "GET", path: `${path}/${segment(id)}` }, options),
  };
}
