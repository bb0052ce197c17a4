/**
 * Every merchant's data lives in one of two modes: live, and test for trying an integration. A key
 * belongs to one; the database's types and the API's schemas derive from this list.
 */
export const modes = ["live", "test"] as const;
export type Mode = (typeof modes)[number];
