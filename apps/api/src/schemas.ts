import { type TSchema, Type } from "typebox";

/** Schemas shared by several resources; each resource keeps its own beside its routes. */

export const Mode = Type.Union([Type.Literal("live"), Type.Literal("test")]);

export const Metadata = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 512 }), {
  maxProperties: 50,
  description: "Free-form string pairs for your own bookkeeping.",
});

export const Timestamp = Type.String({ format: "date-time" });

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    field: Type.Optional(Type.String()),
  },
  { $id: "Problem", description: "RFC 9457 problem details." },
);

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 64, description: "`next_cursor` of the previous page." })),
};

export function listOf<T extends TSchema>(item: T) {
  return Type.Object({ data: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });
}

export const MerchantParams = Type.Object({ mid: Type.String({ maxLength: 64 }) });

const errorCodes = [400, 401, 403, 404, 409, 413, 503] as const;

/** The error responses every route documents, all problem+json. */
export const problemResponses = Object.fromEntries(
  errorCodes.map((code) => [
    code,
    { content: { "application/problem+json": { schema: Type.Ref("Problem") } } },
  ]),
);
