export { buildApp, type HeraldApp, type HeraldContext } from "./app.ts";
