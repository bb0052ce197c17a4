import { type IdKind, isId } from "@herald/core";
import { type Db, getDelivery, getEndpoint, getEvent, getOperation, type Scope } from "@herald/db";
import { notFound } from "./problems.ts";

// The merchant resource a path names, within the caller's scope. A malformed, unknown or another
// tenant's id all answer the same 404, so a caller learns nothing about what it may not see; a
// malformed id never reaches the database.

async function found<T>(kind: IdKind, id: string, read: () => Promise<T | undefined>): Promise<T> {
  const row = isId(kind, id) ? await read() : undefined;
  if (!row) throw notFound(kind);
  return row;
}

export const findEndpoint = (db: Db, scope: Scope, eid: string) =>
  found("endpoint", eid, () => getEndpoint(db, scope, eid));

export const findDelivery = (db: Db, scope: Scope, did: string) =>
  found("delivery", did, () => getDelivery(db, scope, did));

export const findEvent = (db: Db, scope: Scope, evid: string) =>
  found("event", evid, () => getEvent(db, scope, evid));

export const findOperation = (db: Db, scope: Scope, opid: string) =>
  found("operation", opid, () => getOperation(db, scope, opid));
