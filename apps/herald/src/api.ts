// The API alone: run as many as you like against one Postgres.
import { startOnePart } from "./process.ts";

await startOnePart("api");
