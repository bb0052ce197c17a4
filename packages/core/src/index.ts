export * from "./address.ts";
export * from "./endpoint-url.ts";
export * from "./envelope.ts";
export * from "./ids.ts";
export * from "./matching.ts";
export * from "./retry.ts";
export * from "./secrets.ts";
export * from "./signing.ts";
