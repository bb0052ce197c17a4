import { isId } from "@herald/core";
import { type Db, getDelivery, getEndpoint, getEvent, getOperation, type Scope } from "@herald/db";
import { notFound } from "./problems.ts";

// The merchant resource a path names, within the caller's scope. A malformed, unknown or another
// tenant's id all answer the same 404, so a caller learns nothing about what it may not see; a
// malformed id never reaches the database.

export async function findEndpoint(db: Db, scope: Scope, eid: string) {
  const endpoint = isId("endpoint", eid) ? await getEndpoint(db, scope, eid) : undefined;
  if (!endpoint) throw notFound("endpoint");
  return endpoint;
}

export async function findDelivery(db: Db, scope: Scope, did: string) {
  const delivery = isId("delivery", did) ? await getDelivery(db, scope, did) : undefined;
  if (!delivery) throw notFound("delivery");
  return delivery;
}

export async function findEvent(db: Db, scope: Scope, evid: string) {
  const event = isId("event", evid) ? await getEvent(db, scope, evid) : undefined;
  if (!event) throw notFound("event");
  return event;
}

export async function findOperation(db: Db, scope: Scope, opid: string) {
  const operation = isId("operation", opid) ? await getOperation(db, scope, opid) : undefined;
  if (!operation) throw notFound("operation");
  return operation;
}
