// The dispatcher alone: run as many as you like against one Postgres; they share the work.
import { startOnePart } from "./process.ts";

await startOnePart("dispatcher");
