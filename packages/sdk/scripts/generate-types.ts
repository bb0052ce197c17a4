/**
 * Writes src/types.gen.ts from Herald's OpenAPI document: a type per component schema and, per
 * operationId, its query, body and answer. Small on purpose: it covers the JSON Schema that
 * Herald's document uses (objects, arrays, unions, enums, refs, nulls) and fails loudly on
 * anything else, so a new construct is noticed rather than typed `unknown`.
 *
 *   node packages/sdk/scripts/generate-types.ts http://127.0.0.1:8080/openapi.json
 *   node packages/sdk/scripts/generate-types.ts openapi.json
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is walked as plain JSON
type Json = any;

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (name: string) => (identifier.test(name) ? name : JSON.stringify(name));
const comment = (text: string | undefined, indent: string) =>
  text ? `${indent}/** ${text.replaceAll("*/", "*\\/").replaceAll("\n", " ")} */\n` : "";

function typeOf(schema: Json, indent: string): string {
  if (schema === undefined || schema === true || Object.keys(schema).length === 0) return "unknown";
  if (schema.$ref) return String(schema.$ref).split("/").at(-1)!;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v: unknown) => JSON.stringify(v)).join(" | ");
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.map((s: Json) => wrap(typeOf(s, indent))).join(" | ");
  if (Array.isArray(schema.type))
    return schema.type.map((t: string) => wrap(typeOf({ ...schema, type: t }, indent))).join(" | ");
  switch (schema.type) {
    case "string":
      return "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array":
      return `${wrap(typeOf(schema.items, indent))}[]`;
    case "object":
      return objectType(schema, indent);
    default:
      throw new Error(`generate-types: no TypeScript for schema ${JSON.stringify(schema).slice(0, 200)}`);
  }
}

const wrap = (type: string) => (type.includes(" | ") ? `(${type})` : type);

function objectType(schema: Json, indent: string): string {
  const required = new Set<string>(schema.required ?? []);
  const inner = `${indent}  `;
  const properties = Object.entries((schema.properties ?? {}) as Record<string, Json>).map(
    ([name, property]) =>
      `${comment(property.description, inner)}${inner}${key(name)}${required.has(name) ? "" : "?"}: ${typeOf(property, inner)};\n`,
  );
  const extra = schema.additionalProperties;
  if (properties.length === 0)
    return extra && extra !== true ? `Record<string, ${typeOf(extra, indent)}>` : "Record<string, unknown>";
  const index = extra && extra !== true ? `${inner}[key: string]: ${typeOf(extra, inner)};\n` : "";
  return `{\n${properties.join("")}${index}${indent}}`;
}

const methods = ["get", "put", "post", "patch", "delete"];

/** The TypeScript module for `doc`. */
export function typesFromOpenApi(doc: Json): string {
  const out = [
    "// Generated from Herald's OpenAPI document by packages/sdk/scripts/generate-types.ts: do not edit.",
    `// ${doc.info.title} ${doc.info.version}`,
    "",
  ];
  for (const [name, schema] of Object.entries(doc.components.schemas as Record<string, Json>)) {
    out.push(`${comment(schema.description, "")}export type ${name} = ${typeOf(schema, "")};`, "");
  }
  out.push("/** Each operation's inputs and answer, by operationId. */", "export interface Operations {");
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>))
    for (const method of methods.filter((m) => item[m])) {
      const operation = item[method];
      const query = (operation.parameters ?? []).filter((p: Json) => p.in === "query");
      const queryType = query.length
        ? `{\n${query
            .map(
              (p: Json) =>
                `${comment(p.description, "      ")}      ${key(p.name)}${p.required ? "" : "?"}: ${typeOf(p.schema, "      ")};\n`,
            )
            .join("")}    }`
        : "Record<string, never>";
      const body = operation.requestBody?.content?.["application/json"]?.schema;
      const successes = Object.entries(operation.responses as Record<string, Json>).filter(([s]) =>
        /^2/.test(s),
      );
      const answer = successes
        .map(([, r]) => r.content?.["application/json"]?.schema ?? r.content?.["text/plain"]?.schema)
        .map((s) => (s ? typeOf(s, "    ") : "undefined"));
      out.push(
        `${comment(`${method.toUpperCase()} ${path}: ${operation.summary ?? ""}`, "  ")}  ${operation.operationId}: {`,
        `    query: ${queryType};`,
        `    body: ${body ? typeOf(body, "    ") : "never"};`,
        `    bodyRequired: ${operation.requestBody?.required === true};`,
        `    answer: ${[...new Set(answer)].join(" | ")};`,
        "  };",
      );
    }
  out.push("}", "");
  out.push(
    "/** Each operation's method and path template, by operationId. */",
    "export const operationRoutes = {",
  );
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>))
    for (const method of methods.filter((m) => item[m]))
      out.push(
        `  ${item[method].operationId}: [${JSON.stringify(method.toUpperCase())}, ${JSON.stringify(path)}],`,
      );
  out.push("} as const;", "");
  return out.join("\n");
}

if (import.meta.main) {
  const source = process.argv[2];
  if (!source) throw new Error("usage: generate-types.ts <openapi.json URL or file>");
  const doc = /^https?:/.test(source)
    ? await (await fetch(source)).json()
    : JSON.parse(readFileSync(source, "utf8"));
  const target = fileURLToPath(new URL("../src/types.gen.ts", import.meta.url));
  writeFileSync(target, formatted(typesFromOpenApi(doc)));
}

/** `source` as the repository's formatter writes it, so the checked-in file passes `npm run lint`. */
export function formatted(source: string): string {
  const biome = createRequire(import.meta.url).resolve("@biomejs/biome/bin/biome");
  return execFileSync(process.execPath, [biome, "format", "--stdin-file-path=types.gen.ts"], {
    input: source,
    encoding: "utf8",
  });
}
