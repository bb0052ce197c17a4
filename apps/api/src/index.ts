export { buildApp, type HeraldApp, type HeraldContext, version } from "./app.ts";
