import { dataField, filtersMatchingNothing } from "@herald/core";
import { catalogSnapshot, type Db } from "@herald/db";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import type { HeraldApp, HeraldContext } from "./app.ts";
import { HttpProblem } from "./problems.ts";

/**
 * How long a process trusts its copy of the catalog. A change made through this process applies at
 * once; one made through another API process applies here within this long. Reloading costs one
 * query a second at most, where checking the database on every emit would cost one per event.
 */
const trustMs = 1000;

/**
 * JSON Schema 2020-12, strict about what is surely a mistake (an unknown keyword or format), not about
 * style: a union type or `properties` without `type: "object"` is valid JSON Schema and accepted,
 * and nothing is logged to the console.
 */
function newAjv() {
  const ajv = new Ajv2020({
    strict: true,
    strictTypes: false,
    strictTuples: false,
    allowUnionTypes: true,
    allErrors: false,
    logger: false,
  });
  // A CommonJS module: its function is both the default export and its `default` property.
  ajvFormats.default(ajv);
  return ajv;
}

/** Why `schema` cannot check event data (undefined when it can). Compiling also resolves every $ref. */
export function schemaProblem(schema: unknown): string | undefined {
  try {
    newAjv().compile(schema as object);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The first way `data` breaks `schema`, as the field at fault under `base` and a sentence. */
export function dataProblem(
  validate: ValidateFunction,
  data: unknown,
  base: string,
): { field: string; detail: string } | undefined {
  if (validate(data)) return undefined;
  const error = validate.errors![0] as ErrorObject;
  const params = error.params as Record<string, unknown>;
  const named = params.missingProperty ?? params.additionalProperty;
  const field = dataField(
    base,
    error.instancePath,
    typeof named === "string" ? named.slice(0, 64) : undefined,
  );
  return { field, detail: `${field} ${error.message ?? "is invalid"}.` };
}

export function compileSchema(schema: unknown): ValidateFunction {
  return newAjv().compile(schema as object);
}

interface Catalogued {
  schema: unknown;
  updatedAt: number;
}

/** One API process's copy of the catalog, with each schema compiled once per version of it. */
export class EventCatalog {
  #db: Db;
  #types: Promise<Map<string, Catalogued>> | undefined;
  #loadedAt = 0;
  #compiled = new Map<string, { updatedAt: number; validate: ValidateFunction }>();

  constructor(db: Db) {
    this.#db = db;
  }

  /** Forgets the copy: the next emit reads the catalog again. */
  changed(): void {
    this.#types = undefined;
  }

  types(): Promise<Map<string, Catalogued>> {
    if (!this.#types || Date.now() - this.#loadedAt > trustMs) {
      this.#loadedAt = Date.now();
      const loading = catalogSnapshot(this.#db).then(
        (rows) =>
          new Map(rows.map((row) => [row.name, { schema: row.schema, updatedAt: row.updated_at.getTime() }])),
      );
      // A failed read is not kept: the next emit tries again.
      loading.catch(() => {
        if (this.#types === loading) this.#types = undefined;
      });
      this.#types = loading;
    }
    return this.#types;
  }

  validator(name: string, type: Catalogued): ValidateFunction {
    const cached = this.#compiled.get(name);
    if (cached?.updatedAt === type.updatedAt) return cached.validate;
    const validate = compileSchema(type.schema);
    this.#compiled.set(name, { updatedAt: type.updatedAt, validate });
    return validate;
  }
}

const catalogs = new WeakMap<HeraldContext, EventCatalog>();

/** The catalog copy of the app's process. */
export function eventCatalog(app: HeraldApp): EventCatalog {
  let catalog = catalogs.get(app.herald);
  if (!catalog) {
    catalog = new EventCatalog(app.herald.db);
    catalogs.set(app.herald, catalog);
  }
  return catalog;
}

/**
 * Refuses (400, naming the field) an event whose `data` breaks its type's schema, or, with
 * HERALD_REQUIRE_KNOWN_TYPES, whose type the catalog does not list. `field(i)` is where event i sits
 * in the request: "" for a single emit, "events.3." in a batch.
 */
export async function checkAgainstCatalog(
  app: HeraldApp,
  events: readonly { type: string; data: unknown }[],
  field: (index: number) => string = () => "",
): Promise<void> {
  const catalog = eventCatalog(app);
  const types = await catalog.types();
  // An empty catalog without the requirement checks nothing: the common case costs no lookups.
  if (types.size === 0 && !app.herald.config.requireKnownTypes) return;
  for (const [index, event] of events.entries()) {
    const type = types.get(event.type);
    if (!type) {
      if (app.herald.config.requireKnownTypes)
        throw new HttpProblem(
          "validation",
          `"${event.type}" is not in the event-type catalog (HERALD_REQUIRE_KNOWN_TYPES is on).`,
          `${field(index)}type`,
        );
      continue;
    }
    if (type.schema === null) continue;
    const problem = dataProblem(catalog.validator(event.type, type), event.data, `${field(index)}data`);
    if (problem) throw new HttpProblem("validation", problem.detail, problem.field);
  }
}

/**
 * With HERALD_REQUIRE_KNOWN_TYPES, refuses subscription filters that match no catalogued type: no
 * event could ever reach them, so they are typos. Wildcards are fine while they match something.
 */
export async function checkFiltersAgainstCatalog(
  app: HeraldApp,
  filters: readonly string[] | undefined,
  field = "event_types",
): Promise<void> {
  if (!app.herald.config.requireKnownTypes || !filters?.length) return;
  const names = [...(await eventCatalog(app).types()).keys()];
  const [index] = filtersMatchingNothing(filters, names);
  if (index !== undefined)
    throw new HttpProblem(
      "validation",
      `"${filters[index]}" matches no type in the event-type catalog (HERALD_REQUIRE_KNOWN_TYPES is on).`,
      `${field}.${index}`,
    );
}
